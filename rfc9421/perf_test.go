package rfc9421

import (
	"testing"

	"github.com/dunglas/httpsfv"
)

// checkRaw reports whether every member rawMember takes verbatim from the
// field equals its httpsfv serialization, item by item.
func checkRaw(t *testing.T, lines []string) (taken int) {
	t.Helper()
	d, err := httpsfv.UnmarshalDictionary(lines)
	if err != nil {
		return 0
	}
	for _, label := range d.Names() {
		raw, ok := rawMember(lines, label)
		if !ok {
			continue
		}
		mem, _ := d.Get(label)
		want, err := httpsfv.Marshal(mem)
		if err != nil {
			t.Fatalf("%q: rawMember took %q, which httpsfv cannot serialize: %v", lines, raw, err)
		}
		if raw != want {
			t.Fatalf("%q: rawMember took %q, serialization is %q", lines, raw, want)
		}
		il := mem.(httpsfv.InnerList)
		i := 0
		rawItems(raw, func(s string) bool {
			w, _ := httpsfv.Marshal(il.Items[i])
			if s != w {
				t.Fatalf("%q: item %d taken as %q, serialization is %q", lines, i, s, w)
			}
			i++
			return true
		})
		taken++
	}
	return taken
}

func TestRawMember(t *testing.T) {
	v := loadVectors(t)
	for _, ka := range v.KnownAnswers {
		t.Run(ka.Source, func(t *testing.T) {
			if checkRaw(t, []string{ka.SignatureInput}) == 0 {
				t.Errorf("%q not taken verbatim", ka.SignatureInput)
			}
		})
	}
	for _, tt := range []struct {
		name  string
		lines []string
		taken bool
	}{
		{"two lines", []string{`a=("@method");created=1`, `b=("@path" "x";key="k";sf);keyid="k"`}, true},
		{"repeated label keeps the last", []string{`a=("@method");created=1, a=("@path");created=2`}, true},
		{"spaces inside", []string{`a=( "@method"  "@path" );created=1`}, false},
		{"leading zero", []string{`a=("@method");created=01`}, false},
		{"minus zero", []string{`a=("@method");created=-0`}, false},
		{"decimal", []string{`a=("@method");x=1.50`}, false},
		{"true param value", []string{`a=("@method");x=?1`}, false},
		{"false param value", []string{`a=("@method");x=?0`}, true},
		{"repeated param", []string{`a=("@method");created=1;created=2`}, false},
		{"byte sequence", []string{`a=("@method");x=:AAAA:`}, false},
		{"space after semicolon", []string{`a=("@method"); created=1`}, false},
		{"token and escapes", []string{`a=("@method" "x");t=tok/en:x;s="q\"\\"`}, true},
		{"item member", []string{`a=("@method"), b=1`}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkRaw(t, tt.lines) > 0; got != tt.taken {
				t.Errorf("taken = %v, want %v", got, tt.taken)
			}
		})
	}
}

// FuzzRawMember: whatever rawMember takes verbatim is the serialization.
func FuzzRawMember(f *testing.F) {
	v := loadVectors(f)
	for _, ka := range v.KnownAnswers {
		f.Add(ka.SignatureInput, "")
	}
	for _, gc := range v.GeneratedCases {
		f.Add(gc.Output.SignatureInput, "b=()")
	}
	f.Add(`a=( "@method"  "@path" );created=01;x=1.50;y=?1`, `a=("x";sf);created=1`)
	f.Fuzz(func(t *testing.T, a, b string) {
		checkRaw(t, []string{a})
		checkRaw(t, []string{a, b})
	})
}
