package bodydigest

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"io"
	"strings"
	"testing"
)

var (
	errBig = errors.New("too large")
	errBad = errors.New("mismatch")
)

func spec(body string, with512 bool) *Spec {
	d := &Spec{Has256: true, Want256: sha256.Sum256([]byte(body))}
	if with512 {
		d.Has512, d.Want512 = true, sha512.Sum512([]byte(body))
	}
	return d
}

func fail(keyID string, tooLarge bool) error {
	if keyID != "k" {
		return errors.New("wrong key id " + keyID)
	}
	if tooLarge {
		return errBig
	}
	return errBad
}

func read(d *Spec, body string, max int64) error {
	r := NewReader(io.NopCloser(strings.NewReader(body)), d, max, "k", fail)
	_, err := io.ReadAll(r)
	return err
}

func TestReader(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec *Spec
		body string
		max  int64
		want error
	}{
		{"match", spec("hello", false), "hello", 100, nil},
		{"match both", spec("hello", true), "hello", 100, nil},
		{"mismatch", spec("hello", false), "hellO", 100, errBad},
		{"one of two wrong", func() *Spec { d := spec("hello", true); d.Want512[0] ^= 1; return d }(), "hello", 100, errBad},
		{"exactly max", spec("hello", false), "hello", 5, nil},
		{"over max", spec("hello!", false), "hello!", 5, errBig},
		{"conflict", func() *Spec { d := spec("hello", false); d.Conflict = true; return d }(), "hello", 100, errBad},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := read(tt.spec, tt.body, tt.max); !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckAndEmpty(t *testing.T) {
	if ok, err := spec("x", true).Check(strings.NewReader("x")); !ok || err != nil {
		t.Errorf("Check = %v, %v", ok, err)
	}
	if ok, _ := spec("x", false).Check(strings.NewReader("y")); ok {
		t.Error("Check accepted another body")
	}
	if !spec("", true).MatchEmpty() || spec("x", false).MatchEmpty() {
		t.Error("MatchEmpty wrong")
	}
}
