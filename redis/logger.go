package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own messages (reconnect attempts, "failed to
// dial") to l at warn level instead of stderr. go-redis keeps one logger per
// process, so this is process-wide: call it once at startup.
func SetLogger(l *slog.Logger) {
	goredis.SetLogger(slogAdapter{l})
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.l.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
