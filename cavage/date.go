package cavage

import "time"

// imfFixdateLen is the length of "Sun, 06 Nov 1994 08:49:37 GMT".
const imfFixdateLen = len("Sun, 06 Nov 1994 08:49:37 GMT")

// parseIMFFixdate parses the one form real clients send (RFC 9110 §5.6.7)
// without time.Parse's layout interpretation, a tenth of a verification.
// It accepts only the exact form, and only when time.Parse(http.TimeFormat)
// gives the same time (FuzzParseIMFFixdate holds it to that); anything else
// (other case, one-digit hour, fractions, other zones) goes to parseDate's
// time.Parse.
func parseIMFFixdate(s string) (time.Time, bool) {
	if len(s) != imfFixdateLen || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
		s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	switch s[:3] {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		// Only checked for syntax, as time.Parse does.
	default:
		return time.Time{}, false
	}
	month := monthIndex(s[8:11])
	day, ok1 := digits(s[5:7])
	year, ok2 := digits(s[12:16])
	hour, ok3 := digits(s[17:19])
	minute, ok4 := digits(s[20:22])
	sec, ok5 := digits(s[23:25])
	if month == 0 || !(ok1 && ok2 && ok3 && ok4 && ok5) || hour > 23 || minute > 59 || sec > 59 ||
		day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

// monthIndex is 1 to 12 for "Jan" to "Dec", else 0.
func monthIndex(s string) int {
	switch s {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// digits parses s, all ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int(m-1)%7%2
}
