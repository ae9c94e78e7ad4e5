package cavage

import (
	"net/http"
	"testing"
	"time"
)

// sameAsTimeParse fails t when parseIMFFixdate accepts s but
// time.Parse(http.TimeFormat) refuses it or reads another time.
func sameAsTimeParse(t *testing.T, s string) (accepted bool) {
	t.Helper()
	got, ok := parseIMFFixdate(s)
	if !ok {
		return false
	}
	want, err := time.Parse(http.TimeFormat, s)
	if err != nil || got != want {
		t.Fatalf("parseIMFFixdate(%q) = %v, time.Parse = %v, %v", s, got, want, err)
	}
	return true
}

func TestParseIMFFixdate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"Tue, 29 Feb 2000 23:59:59 GMT", true},
		{"Wed, 31 Dec 0000 00:00:00 GMT", true},
		{"Mon, 01 Jan 9999 12:00:00 GMT", true},
		{"Mon, 29 Feb 1900 00:00:00 GMT", false}, // not a leap year
		{"Mon, 30 Feb 2024 00:00:00 GMT", false},
		{"Mon, 31 Apr 2024 00:00:00 GMT", false},
		{"Mon, 00 Jan 2024 00:00:00 GMT", false},
		{"Mon, 01 Jan 2024 24:00:00 GMT", false},
		{"Mon, 01 Jan 2024 00:60:00 GMT", false},
		{"Mon, 01 Jan 2024 00:00:60 GMT", false},
		{"mon, 01 Jan 2024 00:00:00 GMT", false}, // time.Parse takes it: left to it
		{"Mon, 01 JAN 2024 00:00:00 GMT", false},
		{"Mon, 01 Jan 2024 00:00:00 UTC", false},
		{"Mon, 01 Jan 2024 00:00:00 GMT ", false},
		{"Mon, 1 Jan 2024 00:00:00 GMT", false},
		{"Mon, 01 Jan 2024 0:00:00 GMT", false},
		{"Mon, 01 Jan 2024 00:00:0x GMT", false},
		{"Mon, 01 Jan -024 00:00:00 GMT", false},
		{"Mon, 01 Jan +024 00:00:00 GMT", false},
		{"Xyz, 01 Jan 2024 00:00:00 GMT", false},
		{"Mon, 01 Jan 2024 00:00:00.5GMT", false},
		{"", false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			if got := sameAsTimeParse(t, tt.in); got != tt.want {
				t.Errorf("parseIMFFixdate(%q) accepted = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseIMFFixdateEveryDay: every day of 1899 to 2101 (leap rules around
// 1900, 2000 and 2100), at a time that changes with the day, parses as
// time.Parse reads it, and so does the parseDate path that uses it.
func TestParseIMFFixdateEveryDay(t *testing.T) {
	end := time.Date(2102, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC); d.Before(end); d = d.AddDate(0, 0, 1) {
		at := d.Add(time.Duration(d.YearDay()%86400) * 7919 * time.Second % (24 * time.Hour))
		s := at.Format(http.TimeFormat)
		if !sameAsTimeParse(t, s) {
			t.Fatalf("parseIMFFixdate(%q) refused a valid date", s)
		}
		if got, ok := parseDate(s); !ok || !got.Equal(at) {
			t.Fatalf("parseDate(%q) = %v, %v; want %v", s, got, ok, at)
		}
	}
}

func FuzzParseIMFFixdate(f *testing.F) {
	for _, s := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 29 Feb 1900 00:00:00 GMT", "Tue, 29 Feb 2000 23:59:59 GMT",
		"Mon, 01 Jan 2024 0:00:00 GMT", "mon, 01 jan 2024 00:00:00 GMT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameAsTimeParse(t, s) })
}
