package postgres

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32)
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"hex", hex.EncodeToString(raw), ""},
		{"hex upper", strings.ToUpper(hex.EncodeToString(raw)), ""},
		{"base64", base64.StdEncoding.EncodeToString(raw), ""},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(raw), ""},
		{"base64url", base64.URLEncoding.EncodeToString(raw), ""},
		{"base64url raw", base64.RawURLEncoding.EncodeToString(raw), ""},
		{"surrounding space", " " + hex.EncodeToString(raw) + "\n", ""},
		{"empty", "", "empty"},
		{"short base64", base64.StdEncoding.EncodeToString(raw[:16]), "16 bytes"},
		{"passphrase", "correct horse battery staple", "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(tt.in)
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(got, raw) {
					t.Fatalf("got %x, %v; want %x", got, err, raw)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
				t.Errorf("error repeats the key: %v", err)
			}
		})
	}
}

func TestSealBindsRow(t *testing.T) {
	s, err := newSealer(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.seal([]byte("top secret"), secretAD("a", 1))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("top secret")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if pt, err := s.open(ct, secretAD("a", 1)); err != nil || string(pt) != "top secret" {
		t.Fatalf("open: %q, %v", pt, err)
	}
	ct2, _ := s.seal([]byte("top secret"), secretAD("a", 1))
	if bytes.Equal(ct, ct2) {
		t.Error("two seals of one value are equal: nonce reused")
	}
	other, _ := newSealer(bytes.Repeat([]byte{1}, 32))
	for name, try := range map[string]func() ([]byte, error){
		"other key id":      func() ([]byte, error) { return s.open(ct, secretAD("b", 1)) },
		"other version":     func() ([]byte, error) { return s.open(ct, secretAD("a", 2)) },
		"as headers":        func() ([]byte, error) { return s.open(ct, headersAD("a", "1")) },
		"wrong master key":  func() ([]byte, error) { return other.open(ct, secretAD("a", 1)) },
		"truncated":         func() ([]byte, error) { return s.open(ct[:10], secretAD("a", 1)) },
		"unknown format":    func() ([]byte, error) { return s.open(append([]byte{9}, ct[1:]...), secretAD("a", 1)) },
		"headers to origin": func() ([]byte, error) { return s.open(ct, headersAD("a", "https://evil.example")) },
	} {
		if _, err := try(); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: got %v, want ErrDecrypt", name, err)
		}
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("newSealer accepted a 5-byte key")
	}
}

func FuzzParseMasterKey(f *testing.F) {
	f.Add(hex.EncodeToString(testMasterKey))
	f.Add(base64.StdEncoding.EncodeToString(testMasterKey))
	f.Add("")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseMasterKey(s)
		if err == nil && len(k) != MasterKeySize {
			t.Fatalf("accepted %d bytes", len(k))
		}
	})
}

// FuzzOpen: opening arbitrary bytes never panics; a sealed value opens, and
// any one-byte change of it does not.
func FuzzOpen(f *testing.F) {
	s, err := newSealer(testMasterKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("secret"), "key_1", 0, byte(1))
	f.Add([]byte{}, "", 12, byte(0x80))
	f.Fuzz(func(t *testing.T, pt []byte, id string, pos int, flip byte) {
		ad := secretAD(id, 1)
		if _, err := s.open(pt, ad); err == nil {
			t.Fatal("opened unsealed bytes")
		}
		ct, err := s.seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.open(ct, ad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip: %v", err)
		}
		if flip == 0 {
			flip = 1
		}
		if pos < 0 {
			pos = -pos
		}
		bad := bytes.Clone(ct)
		bad[pos%len(bad)] ^= flip
		if _, err := s.open(bad, ad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("opened after a change at %d: %v", pos%len(bad), err)
		}
	})
}
