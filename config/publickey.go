package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/signet-dev/signet/keyfile"
	"go.yaml.in/yaml/v3"
)

// PublicKey is a public key written as a PEM block ("PUBLIC KEY", "RSA
// PUBLIC KEY" or "CERTIFICATE") or as a JWK (JSON text, or a YAML mapping
// with the JWK's fields). Its zero value holds no key.
type PublicKey struct {
	// Key is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey; nil
	// when no key is configured.
	Key crypto.PublicKey
}

// IsZero reports whether no key is configured.
func (p PublicKey) IsZero() bool { return p.Key == nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *PublicKey) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.TrimSpace(n.Value) == "" {
			p.Key = nil
			return nil
		}
		k, err := ParsePublicKey([]byte(n.Value))
		if err != nil {
			return fmt.Errorf("line %d: public_key: %w", n.Line, err)
		}
		p.Key = k
		return nil
	case yaml.MappingNode:
		var jwk map[string]string
		if err := n.Decode(&jwk); err != nil {
			return fmt.Errorf("line %d: public_key: a JWK's fields are strings", n.Line)
		}
		b, _ := json.Marshal(jwk)
		k, err := ParsePublicKey(b)
		if err != nil {
			return fmt.Errorf("line %d: public_key: %w", n.Line, err)
		}
		p.Key = k
		return nil
	}
	return fmt.Errorf("line %d: public_key must be a PEM block or a JWK", n.Line)
}

// MarshalYAML implements yaml.Marshaler: the key as a PEM block.
func (p PublicKey) MarshalYAML() (any, error) {
	if p.Key == nil {
		return "", nil
	}
	der, err := x509.MarshalPKIXPublicKey(p.Key)
	if err != nil {
		return nil, err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// ParsePublicKey reads a PEM public key (or certificate) or a JWK (RSA, EC
// P-256/P-384/P-521, OKP Ed25519). Private keys are refused: the gateway
// only verifies, and a private key in a config file is a leak.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	if keyfile.IsPrivate(data) {
		return nil, errors.New("this is a private key: configure the public key only")
	}
	k, err := keyfile.ParsePublicKey(data)
	if err != nil {
		return nil, err
	}
	switch k := k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", k)
}
