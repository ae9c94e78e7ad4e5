package redis

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestSlogAdapter(t *testing.T) {
	var buf bytes.Buffer
	a := slogAdapter{slog.New(slog.NewJSONHandler(&buf, nil))}
	a.Printf(context.Background(), "failed to dial %s", "127.0.0.1:1")
	if got := buf.String(); !strings.Contains(got, `"level":"WARN"`) || !strings.Contains(got, `"detail":"failed to dial 127.0.0.1:1"`) {
		t.Errorf("got %s", got)
	}
}
