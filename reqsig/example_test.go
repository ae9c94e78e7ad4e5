package reqsig_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/reqsig"
)

// The request-signer README's example, signed at a fixed time.
func ExampleSigner_Authorization() {
	s := &reqsig.Signer{KeyID: "aaa-bbb-ccc", Secret: "secret-aaa-bbb-ccc", APIVersion: "v1"}
	h, err := s.Authorization("GET", "https://api.com/search?product_id=prd1", time.UnixMilli(1585733039477))
	if err != nil {
		panic(err)
	}
	fmt.Println(h)
	// Output:
	// REQUEST-SIGNATURE ApiKey=aaa-bbb-ccc,ApiVersion=v1,SignedHost=true,Timestamp=1585733039477,Signature=kqZmfo4_lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu_po
}

func ExampleSigner_SignRequest() {
	s := &reqsig.Signer{
		KeyID:  "aaa-bbb-ccc",
		Secret: "secret-aaa-bbb-ccc",
		Now:    func() time.Time { return time.UnixMilli(1585733039477) },
	}
	r := httptest.NewRequest("GET", "https://api.com/search?product_id=prd1", nil)
	if err := s.SignRequest(r); err != nil {
		panic(err)
	}
	fmt.Println(r.Header.Get("Authorization"))
	// Output:
	// REQUEST-SIGNATURE ApiKey=aaa-bbb-ccc,ApiVersion=v1,SignedHost=true,Timestamp=1585733039477,Signature=kqZmfo4_lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu_po
}

func ExampleCanonicalRequest() {
	for _, u := range []string{
		"https://api.com/search?product_id=prd1",
		"https://user@API.Com:8443",
		"http://[::1]:80/a b/../c?#frag",
	} {
		c, _ := reqsig.CanonicalRequest("get", u, true)
		fmt.Printf("%q\n", c)
	}
	// Output:
	// "GET api.com /search product_id=prd1"
	// "GET API.Com "
	// "GET [::1] /a b/../c"
}

func ExampleVerifier_Verify() {
	signedAt := time.UnixMilli(1585733039477)
	keys := signet.StaticKeys{
		"aaa-bbb-ccc": {ID: "aaa-bbb-ccc", Secrets: []string{"new-secret", "secret-aaa-bbb-ccc"}},
	}
	v := &reqsig.Verifier{Now: func() time.Time { return signedAt.Add(time.Minute) }}

	// The request as the server receives it.
	r := httptest.NewRequest("GET", "/search?product_id=prd1", nil)
	r.Host = "api.com"
	r.Header.Set("Authorization", "REQUEST-SIGNATURE ApiKey=aaa-bbb-ccc,ApiVersion=v1,SignedHost=true,Timestamp=1585733039477,Signature=kqZmfo4_lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu_po")

	ver, err := v.Verify(context.Background(), r, keys)
	if err != nil {
		fmt.Println(signet.Code(err), err)
		return
	}
	fmt.Println(ver.KeyID, ver.SecretIndex, ver.SignedAt.UTC().Format(time.RFC3339Nano), ver.ExpiresAt.UTC().Format(time.RFC3339))

	// The same header on another path.
	r = httptest.NewRequest("GET", "/search?product_id=prd2", nil)
	r.Host = "api.com"
	r.Header.Set("Authorization", "REQUEST-SIGNATURE ApiKey=aaa-bbb-ccc,ApiVersion=v1,SignedHost=true,Timestamp=1585733039477,Signature=kqZmfo4_lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu_po")
	_, err = v.Verify(context.Background(), r, keys)
	fmt.Println(signet.Code(err), signet.Status(err))
	// Output:
	// aaa-bbb-ccc 1 2020-04-01T09:23:59.477Z 2020-04-01T09:28:59Z
	// signature_mismatch 401
}
