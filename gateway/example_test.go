package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/gateway"
	"github.com/signet-dev/signet/sw1"
)

func ExampleNew() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream got %s %s with %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
	}))
	defer upstream.Close()

	cfg := config.Default()
	cfg.Keys = []config.Key{{
		ID:      "app",
		Secrets: []string{"s3cret"},
		// Listing the (loopback) origin is what allows it.
		Upstreams: []config.Upstream{{Origin: upstream.URL, Headers: map[string]string{"Authorization": "Bearer sk-123"}}},
	}}
	gw, err := gateway.New(cfg, nil)
	if err != nil {
		panic(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()

	// The backend signs; the browser (here http.Get) uses the URL.
	signed, err := sw1.Presign(sw1.PresignOptions{KeyID: "app", Secret: "s3cret", Gateway: front.URL, Target: upstream.URL + "/v1/models"})
	if err != nil {
		panic(err)
	}
	res, err := http.Get(signed)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))

	res, err = http.Get(signed + "0") // tampered
	if err != nil {
		panic(err)
	}
	var e signet.ErrorBody
	_ = json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	fmt.Println(res.StatusCode, e.Error)
	// Output:
	// 200 upstream got GET /v1/models with "Bearer sk-123"
	// 400 malformed
}
