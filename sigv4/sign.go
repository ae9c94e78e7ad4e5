package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/signet-dev/signet"
)

// Algorithm is the only SigV4 signing algorithm, as it appears in the
// Authorization header, X-Amz-Algorithm and Verified.Algorithm.
const Algorithm = "AWS4-HMAC-SHA256"

// Defaults for the credential scope when Region or Service is empty.
// "execute-api" is API Gateway's service name: a gateway in front of APIs is
// what Signet is, and AWS SDK users know to pass it.
const (
	DefaultRegion  = "us-east-1"
	DefaultService = "execute-api"
)

// UnsignedPayload is the X-Amz-Content-Sha256 value (and payload hash) of a
// request whose body the signature does not cover.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// MaxExpires is the longest lifetime of a pre-signed URL AWS allows (7 days).
const MaxExpires = 604800 * time.Second

// DefaultMaxBody bounds the body that is hashed (by Signer, and by Verifier
// when no X-Amz-Content-Sha256 names the hash) when MaxBody is 0.
const DefaultMaxBody = 10 << 20

// emptySHA256 is hex(sha256("")), the payload hash of a request without body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Signer signs outgoing requests with SigV4, using the AWS SDK for Go's
// signer. It is a signet.RequestSigner, so it plugs into signet.Transport.
// Its fields must not change while it is in use; it is then safe for
// concurrent use.
type Signer struct {
	// KeyID and Secret are the access key id and secret access key.
	KeyID, Secret string

	// Region and Service form the credential scope. Empty means
	// DefaultRegion ("us-east-1") and DefaultService ("execute-api"); the
	// verifier must be configured with the same values.
	Region, Service string

	// DisableURIPathEscaping signs the path as sent (S3 style) instead of
	// escaping it once more (every other AWS service). False is the default
	// of the AWS SDKs for non-S3 services.
	DisableURIPathEscaping bool

	// UnsignedPayload leaves the body out of the signature: the payload hash
	// is UNSIGNED-PAYLOAD and the body is not read. False hashes the body
	// (up to DefaultMaxBody bytes) and sends the hash in
	// X-Amz-Content-Sha256, which lets the verifier check it while
	// streaming.
	UnsignedPayload bool

	// Now returns the signing time. Nil means time.Now.
	Now func() time.Time
}

var _ signet.RequestSigner = (*Signer)(nil)

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Signer) scope() (region, service string) {
	region, service = s.Region, s.Service
	if region == "" {
		region = DefaultRegion
	}
	if service == "" {
		service = DefaultService
	}
	return region, service
}

func (s *Signer) credentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: s.Secret}
}

// sdkSigner returns a fresh SDK signer. A fresh one per call on purpose: the
// SDK caches the derived key by access key id, region, service and day, not
// by secret, so a shared signer would keep using a replaced secret.
func (s *Signer) sdkSigner() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = s.DisableURIPathEscaping
	})
}

// payloadHash returns the body's hex SHA-256 (reading and restoring r.Body)
// or UNSIGNED-PAYLOAD.
func (s *Signer) payloadHash(r *http.Request) (string, error) {
	if s.UnsignedPayload {
		return UnsignedPayload, nil
	}
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, DefaultMaxBody+1))
	r.Body.Close()
	if err != nil {
		return "", fmt.Errorf("sigv4: read body: %w", err)
	}
	if len(body) > DefaultMaxBody {
		return "", fmt.Errorf("sigv4: body longer than %d bytes; sign it with UnsignedPayload", DefaultMaxBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// SignRequest signs r in place: it sets X-Amz-Date, X-Amz-Content-Sha256 and
// Authorization. The signature covers the method, path, query, Host and every
// other header r carries except those AWS never signs (User-Agent, Expect,
// ...), so headers added afterwards are not covered.
func (s *Signer) SignRequest(r *http.Request) error {
	if s.KeyID == "" || s.Secret == "" {
		return errors.New("sigv4: Signer needs KeyID and Secret")
	}
	hash, err := s.payloadHash(r)
	if err != nil {
		return err
	}
	// Stale signing headers would be signed again as ordinary headers.
	r.Header.Del("Authorization")
	r.Header.Set("X-Amz-Content-Sha256", hash)
	region, service := s.scope()
	err = s.sdkSigner().SignHTTP(context.Background(), s.credentials(), r, hash, service, region, s.now())
	if err != nil {
		return fmt.Errorf("sigv4: sign: %w", err)
	}
	return nil
}

// Presign returns a pre-signed URL for r valid for expires (1 s to 7 days,
// whole seconds). r is not modified. Every header r carries besides those
// AWS never signs is covered and must be sent with the URL, with the same
// value (Host always is). The body is covered as SignRequest covers it;
// a body's hash travels in the X-Amz-Content-Sha256 query parameter.
func (s *Signer) Presign(r *http.Request, expires time.Duration) (string, error) {
	if s.KeyID == "" || s.Secret == "" {
		return "", errors.New("sigv4: Signer needs KeyID and Secret")
	}
	if expires < time.Second || expires > MaxExpires || expires%time.Second != 0 {
		return "", fmt.Errorf("sigv4: expires %v is not a whole number of seconds between 1s and %v", expires, MaxExpires)
	}
	hash, err := s.payloadHash(r)
	if err != nil {
		return "", err
	}
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	q := r2.URL.Query()
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	// The hoisted hash tells the verifier which payload hash was signed,
	// so it need not buffer the body to find out.
	if hash != emptySHA256 {
		q.Set("X-Amz-Content-Sha256", hash)
	}
	r2.URL.RawQuery = q.Encode()
	region, service := s.scope()
	u, _, err := s.sdkSigner().PresignHTTP(context.Background(), s.credentials(), r2, hash, service, region, s.now())
	if err != nil {
		return "", fmt.Errorf("sigv4: presign: %w", err)
	}
	return u, nil
}
