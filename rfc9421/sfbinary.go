package rfc9421

import "encoding/base64"

// sfBinary returns the serialization of a byte sequence, ":base64:".
func sfBinary(b []byte) string {
	var out [128]byte
	o := append(out[:0], ':')
	o = base64.StdEncoding.AppendEncode(o, b)
	return string(append(o, ':'))
}
