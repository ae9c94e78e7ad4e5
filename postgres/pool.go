package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pool wraps pgxpool with the two shapes the store uses: a function run on
// one connection, and one run in a transaction.
type pool struct{ p *pgxpool.Pool }

func newPool(ctx context.Context, cfg *pgx.ConnConfig, size int) (*pool, error) {
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pc.ConnConfig = cfg
	pc.MaxConns = int32(size)
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	return &pool{p: p}, nil
}

// with runs fn on a connection. When fn fails on a connection the server
// had dropped (a restart), it is retried once on another if retry is set:
// only for reads. pgxpool health-checks idle connections, but a restart can
// still race with an acquire.
func (p *pool) with(ctx context.Context, retry bool, fn func(*pgx.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := p.p.Acquire(ctx)
		if err != nil {
			return err
		}
		err = fn(c.Conn())
		closed := c.Conn().IsClosed()
		c.Release()
		if err != nil && closed && retry && attempt == 0 && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// tx runs fn in a transaction, committed when fn returns nil.
func (p *pool) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, p.p, fn)
}

func (p *pool) close() { p.p.Close() }
