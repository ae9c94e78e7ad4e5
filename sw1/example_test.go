package sw1_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/sw1"
)

func ExamplePresign() {
	u, err := sw1.Presign(sw1.PresignOptions{
		KeyID:   "app-id",
		Secret:  "super-secure-string",
		Gateway: "https://gw.example.com",
		Target:  "https://api.openai.com/v1/completions",
		Method:  http.MethodPost,
		Expires: time.Minute,
		Time:    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u)
	// Output:
	// https://gw.example.com/?X-Sw-Algorithm=SW1-HMAC-SHA256&X-Sw-Credential=app-id%2F20240102&X-Sw-Date=20240102T030405Z&X-Sw-Expires=60&X-Sw-Proxy=https%3A%2F%2Fapi.openai.com%2Fv1%2Fcompletions&X-Sw-SignedHeaders=&X-Sw-Body=false&X-Sw-Signature=2a8bf10375b15886a022e8d16b32f214ea467ffe48a041ef45ce7f07c0337292
}

func ExampleVerifier_Verify() {
	signedAt := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	u, err := sw1.Presign(sw1.PresignOptions{
		KeyID:   "app-id",
		Secret:  "super-secure-string",
		Gateway: "https://gw.example.com",
		Target:  "https://api.openai.com/v1/completions",
		Method:  http.MethodPost,
		Body:    []byte(`{"prompt":"Say this is a test"}`),
		Time:    signedAt,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	keys := signet.StaticKeys{"app-id": {ID: "app-id", Secrets: []string{"super-secure-string"}}}
	v := &sw1.Verifier{Now: func() time.Time { return signedAt.Add(time.Minute) }}

	// The request the client sends: the signed method and body.
	body := `{"prompt":"Say this is a test"}`
	r := httptest.NewRequest(http.MethodPost, u, strings.NewReader(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	ver, err := v.Verify(context.Background(), r, keys)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ver.KeyID, ver.Target, ver.BodySigned, ver.ExpiresAt)

	// The same URL with another method fails.
	r = httptest.NewRequest(http.MethodPut, u, strings.NewReader(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	_, err = v.Verify(context.Background(), r, keys)
	fmt.Println(signet.Code(err), signet.Status(err))
	// Output:
	// app-id https://api.openai.com/v1/completions true 2024-01-02 03:14:05 +0000 UTC
	// signature_mismatch 401
}
