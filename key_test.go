package signet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-dev/signet"
)

func TestLookupKey(t *testing.T) {
	key := &signet.Key{ID: "k", Secrets: []string{"s"}}
	down := errors.New("dial tcp 10.0.0.5:5432: connection refused (password=hunter2)")
	redisDown := &signet.Error{Err: signet.ErrStoreUnavailable, Detail: "redis unavailable"}
	tests := []struct {
		name       string
		key        *signet.Key
		err        error
		want       error // sentinel; nil: the key
		wantStatus int
		wantCause  error // also wrapped
	}{
		{"found", key, nil, nil, 0, nil},
		{"unknown", nil, signet.ErrUnknownKey, signet.ErrUnknownKey, 401, nil},
		{"unknown, wrapped", nil, fmt.Errorf("postgres: %w", signet.ErrUnknownKey), signet.ErrUnknownKey, 401, nil},
		{"nil key without error", nil, nil, signet.ErrUnknownKey, 401, nil},
		{"store down", nil, down, signet.ErrStoreUnavailable, 503, down},
		{"store down with a key", key, down, signet.ErrStoreUnavailable, 503, down},
		{"context canceled", nil, context.Canceled, signet.ErrStoreUnavailable, 503, context.Canceled},
		{"store already says unavailable", nil, redisDown, signet.ErrStoreUnavailable, 503, redisDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotID string
			keys := signet.KeyStoreFunc(func(_ context.Context, id string) (*signet.Key, error) {
				gotID = id
				return tt.key, tt.err
			})
			k, err := signet.LookupKey(context.Background(), keys, signet.SchemeCavage, "k")
			if gotID != "k" {
				t.Errorf("looked up %q, want k", gotID)
			}
			if tt.want == nil {
				if err != nil || k != key {
					t.Fatalf("got %v, %v; want the key", k, err)
				}
				return
			}
			if k != nil {
				t.Errorf("key %v returned with an error", k)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want != signet.ErrStoreUnavailable && errors.Is(err, signet.ErrStoreUnavailable) {
				t.Errorf("%v is also store_unavailable", err)
			}
			if tt.want != signet.ErrUnknownKey && errors.Is(err, signet.ErrUnknownKey) {
				t.Errorf("%v is also unknown_key", err)
			}
			if tt.wantCause != nil {
				if !errors.Is(err, tt.wantCause) {
					t.Errorf("%v does not wrap the store's error", err)
				}
				if !strings.Contains(err.Error(), tt.wantCause.Error()) {
					t.Errorf("Error() = %q: the logs would miss the store's error", err)
				}
			}
			var se *signet.Error
			if !errors.As(err, &se) || se.Scheme != signet.SchemeCavage || se.KeyID != "k" {
				t.Errorf("errors.As *Error = %+v, want scheme cavage and key id k", se)
			}
			if got := signet.Status(err); got != tt.wantStatus {
				t.Errorf("Status = %d, want %d", got, tt.wantStatus)
			}

			w := httptest.NewRecorder()
			signet.WriteError(w, err)
			var eb signet.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
				t.Fatal(err)
			}
			if w.Code != tt.wantStatus || eb.Error != signet.Code(tt.want) {
				t.Errorf("WriteError: %d %q, want %d %q", w.Code, eb.Error, tt.wantStatus, signet.Code(tt.want))
			}
			for _, s := range []string{"10.0.0.5", "hunter2", "connection refused", "context canceled"} {
				if strings.Contains(w.Body.String(), s) {
					t.Errorf("the client sees the store's internals (%q): %s", s, w.Body)
				}
			}
			if tt.wantStatus == http.StatusServiceUnavailable && w.Header().Get("WWW-Authenticate") != "" {
				t.Error("a store failure asks the client to authenticate")
			}
		})
	}
}
