package postgres

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/signet-dev/signet"
)

// Channel is the NOTIFY channel the schema's triggers send key ids on. An
// empty payload means every key changed (TRUNCATE).
const Channel = "signet_keys"

// Options tune a Store. The zero value is a good default.
type Options struct {
	// RefreshInterval is how often the safety net behind LISTEN/NOTIFY
	// runs: it compares a fingerprint of the tables (one row, computed by
	// the database) with the cached snapshot's, and reloads the whole
	// cache when they differ. Zero means 30s; negative disables it. The
	// wait is longer when a full reload takes more than 1/20 of it (a
	// million keys take seconds), so reloads cost at most 5% of a core.
	RefreshInterval time.Duration

	// PingInterval is how long the change feed may stay silent before its
	// connection is checked, so a dead network is noticed. Zero means 10s.
	PingInterval time.Duration

	// MaxConns bounds the connections used by the loader and the admin
	// API, besides the one LISTEN connection. Zero means 4.
	MaxConns int

	// DisableCache makes Open load nothing and not listen: Key then queries
	// the database on every call. For one-shot admin commands (signet keys);
	// a gateway must leave it false.
	DisableCache bool

	// loadBatch is how many rows a full load fetches at a time per table;
	// zero means 10,000. Tests set it small to cross batch boundaries.
	loadBatch int

	// Logger receives background errors (reconnects, failed refreshes,
	// keys that cannot be decrypted). Nil means slog.Default().
	Logger *slog.Logger
}

// Store is a signet.KeyStore backed by PostgreSQL. Key answers from an
// in-memory cache that is filled by Open, kept fresh by LISTEN/NOTIFY and
// fully reloaded every RefreshInterval; it never waits on the database.
// Revoked keys are not in the cache. Keys returned are shared: do not
// modify them.
type Store struct {
	cfg    *pgx.ConnConfig
	pool   *pool
	sealer *sealer // nil when opened without a master key
	opts   Options
	log    *slog.Logger

	seed  maphash.Seed
	table atomic.Pointer[table]

	// mu serialises writers of the cache. dirty, while a full reload runs,
	// collects the ids reloaded one by one meanwhile: their newer state
	// wins over the full reload's older snapshot.
	mu         sync.Mutex
	refreshing bool
	dirty      map[string]struct{}
	refreshMu  sync.Mutex // one full reload at a time
	// Under refreshMu: the fingerprint (fingerprintSQL) of the snapshot the
	// cache holds, and of the one a full load is reading.
	cachedFP, loadedFP string
	fullLoads          atomic.Int64 // full loads done, for tests

	listening   atomic.Bool
	listenPID   atomic.Uint32
	downSince   atomic.Int64 // unix nanoseconds; 0 while listening
	lastRefresh atomic.Int64 // unix nanoseconds of the last full reload
	refreshCost atomic.Int64 // nanoseconds the last full load took

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ signet.KeyStore = (*Store)(nil)

// nShards splits the cache so that reloading one key copies 1/256 of it;
// readers load one atomic pointer and read a plain map.
const nShards = 256

type table struct {
	shards [nShards]atomic.Pointer[shard]
	size   atomic.Int64
}

func newTable() *table {
	t := new(table)
	for i := range t.shards {
		t.shards[i].Store(buildShard(nil))
	}
	return t
}

func (s *Store) shard(id string) int { return int(maphash.String(s.seed, id) % nShards) }

// Open connects to the database at url, checks that its schema is migrated,
// loads every key into memory and starts following changes. masterKey (32
// bytes, see ParseMasterKey) decrypts the secrets and injected headers; it
// may be nil only with DisableCache, for commands that decrypt nothing
// (list, show, revoke, delete). Open fails if any stored key cannot be
// decrypted, which is what a wrong master key looks like.
func Open(ctx context.Context, url string, masterKey []byte, opts Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: database URL: %w", err)
	}
	s := &Store{cfg: cfg, opts: opts, log: opts.Logger, seed: maphash.MakeSeed()}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.opts.loadBatch == 0 {
		s.opts.loadBatch = 10000
	}
	if s.opts.RefreshInterval == 0 {
		s.opts.RefreshInterval = 30 * time.Second
	}
	if s.opts.PingInterval <= 0 {
		s.opts.PingInterval = 10 * time.Second
	}
	if s.opts.MaxConns <= 0 {
		s.opts.MaxConns = 4
	}
	if masterKey != nil || !opts.DisableCache {
		if s.sealer, err = newSealer(masterKey); err != nil {
			return nil, err
		}
	}
	if s.pool, err = newPool(ctx, cfg, s.opts.MaxConns); err != nil {
		return nil, err
	}
	s.table.Store(newTable())

	want := SchemaVersion()
	err = s.pool.with(ctx, true, func(c *pgx.Conn) error {
		v, err := appliedVersion(ctx, c)
		if err == nil && v < want {
			err = fmt.Errorf("postgres: schema version %d is older than %d: run signet migrate", v, want)
		}
		return err
	})
	if err != nil {
		s.pool.close()
		return nil, err
	}
	if opts.DisableCache {
		return s, nil
	}

	// LISTEN before the first load, so no change falls between them.
	lc, err := s.listen(ctx)
	if err != nil {
		s.pool.close()
		return nil, err
	}
	if err := s.refreshAll(ctx, true); err != nil {
		lc.Close(context.Background())
		s.pool.close()
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.follow(bg, lc)
	if s.opts.RefreshInterval > 0 {
		s.wg.Add(1)
		go s.refreshLoop(bg)
	}
	return s, nil
}

// Key returns the key with id from the cache, or ErrUnknownKey when there
// is no such key or it is revoked. It does not touch the database (except
// with DisableCache).
func (s *Store) Key(ctx context.Context, id string) (*signet.Key, error) {
	if s.opts.DisableCache {
		keys, _, err := s.loadEntries(ctx, []string{id})
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, signet.ErrUnknownKey
		}
		return keys[0].get()
	}
	if k, ok, err := s.table.Load().shards[s.shard(id)].Load().key(id); ok {
		return k, err
	}
	return nil, signet.ErrUnknownKey
}

// Len returns the number of keys in the cache.
func (s *Store) Len() int { return int(s.table.Load().size.Load()) }

// Ready reports whether the cache follows the database: nil while the
// LISTEN connection is up and the database answers. Otherwise Key still
// answers from the last known state, but changes (revocations) may be
// missed until the connection comes back; /readyz should say so.
func (s *Store) Ready(ctx context.Context) error {
	if !s.opts.DisableCache && !s.listening.Load() {
		since := time.Unix(0, s.downSince.Load()).UTC().Format(time.RFC3339)
		return fmt.Errorf("postgres: change feed down since %s; serving keys as of %s",
			since, time.Unix(0, s.lastRefresh.Load()).UTC().Format(time.RFC3339))
	}
	return s.pool.with(ctx, true, func(c *pgx.Conn) error { return c.Ping(ctx) })
}

// Close stops following changes and closes the connections. Key keeps
// answering from the last state.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		s.pool.close()
	})
}

// listen opens the dedicated change-feed connection.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.cfg.Copy()
	cfg.RuntimeParams["application_name"] = "signet-listener"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: change feed: %w", err)
	}
	if _, err := c.Exec(ctx, "LISTEN "+Channel); err != nil {
		c.Close(context.Background())
		return nil, fmt.Errorf("postgres: change feed: %w", err)
	}
	s.listenPID.Store(c.PgConn().PID())
	s.listening.Store(true)
	s.downSince.Store(0)
	return c, nil
}

// follow reloads the keys named by notifications, and reconnects (then
// reloads everything, since notifications were lost meanwhile) when the
// connection fails.
func (s *Store) follow(ctx context.Context, c *pgx.Conn) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		if c == nil {
			var err error
			if c, err = s.listen(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("postgres: reconnecting change feed", "err", err, "retry_in", backoff)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			if err := s.refreshAll(ctx, false); err != nil && ctx.Err() == nil {
				s.log.Error("postgres: reload after reconnect", "err", err)
			}
		}
		err := s.drain(ctx, c)
		c.Close(context.Background())
		c = nil
		s.listening.Store(false)
		s.downSince.Store(time.Now().UnixNano())
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("postgres: change feed lost", "err", err)
	}
}

// drain handles notifications until the connection fails.
func (s *Store) drain(ctx context.Context, c *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, s.opts.PingInterval)
		n, err := c.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) && !c.IsClosed() {
				pctx, cancel := context.WithTimeout(ctx, s.opts.PingInterval)
				err = c.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			return err
		}
		// Collect what else is already queued, so a bulk change reloads
		// in one query.
		ids := map[string]struct{}{n.Payload: {}}
		for len(ids) < 10000 {
			wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
			n, err := c.WaitForNotification(wctx)
			cancel()
			if err != nil {
				if c.IsClosed() {
					return err
				}
				break
			}
			ids[n.Payload] = struct{}{}
		}
		_, all := ids[""]
		if all || len(ids) >= 10000 {
			err = s.refreshAll(ctx, false)
		} else {
			list := make([]string, 0, len(ids))
			for id := range ids {
				list = append(list, id)
			}
			err = s.reload(ctx, list)
		}
		if err != nil && ctx.Err() == nil {
			// The periodic reload will catch up.
			s.log.Error("postgres: reloading changed keys", "err", err)
		}
	}
}

func (s *Store) refreshLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTimer(refreshWait(s.opts.RefreshInterval, time.Duration(s.refreshCost.Load())))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.refreshIfChanged(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("postgres: periodic key reload", "err", err)
			}
			t.Reset(refreshWait(s.opts.RefreshInterval, time.Duration(s.refreshCost.Load())))
		}
	}
}

// fingerprintSQL changes whenever a row of the three tables is inserted,
// updated or deleted, triggers or not (session_replication_role = replica,
// a restore): every new row version has a new xmin, and a delete changes
// the count. Computing it scans the tables in the database, but sends one
// row: far cheaper than a full load, for the gateway and the network.
const fingerprintSQL = `SELECT concat_ws('/',
	(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM signet_keys),
	(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM signet_secrets),
	(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM signet_upstreams))`

// refreshIfChanged is the periodic safety net: a full reload when the
// tables' fingerprint differs from the one of the snapshot in the cache.
// Changes normally arrive by NOTIFY; this catches the ones that did not.
func (s *Store) refreshIfChanged(ctx context.Context) error {
	s.refreshMu.Lock()
	var fp string
	err := s.pool.with(ctx, true, func(c *pgx.Conn) error { return c.QueryRow(ctx, fingerprintSQL).Scan(&fp) })
	same := err == nil && fp != "" && fp == s.cachedFP
	s.refreshMu.Unlock()
	if err != nil {
		return fmt.Errorf("postgres: checking for changes: %w", err)
	}
	if same {
		s.lastRefresh.Store(time.Now().UnixNano())
		return nil
	}
	return s.refreshAll(ctx, false)
}

// refreshCostFactor bounds the periodic reload's share of the time: a
// full reload that took d is not repeated before refreshCostFactor*d.
const refreshCostFactor = 20

// refreshWait is the time until the next periodic full reload: interval,
// or longer when the last reload took long (many keys), so that the
// safety net never costs more than 1/refreshCostFactor of a core. Changes
// still arrive by NOTIFY within milliseconds, and a reconnect of the
// change feed reloads everything at once.
func refreshWait(interval, cost time.Duration) time.Duration {
	return max(interval, refreshCostFactor*cost)
}

// refreshAll replaces the cache with a fresh load. strict (at Open) makes
// any key that cannot be decrypted an error; afterwards such keys are
// dropped from the cache and logged.
func (s *Store) refreshAll(ctx context.Context, strict bool) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	s.mu.Lock()
	s.refreshing, s.dirty = true, map[string]struct{}{}
	s.mu.Unlock()

	start := time.Now()
	s.loadedFP = ""
	tb := &tableBuilder{shardOf: s.shard}
	bad, err := s.load(ctx, nil, tb)
	s.refreshCost.Store(int64(time.Since(start)))
	s.fullLoads.Add(1)

	s.mu.Lock()
	defer s.mu.Unlock()
	dirty := s.dirty
	s.refreshing, s.dirty = false, nil
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		err := fmt.Errorf("%w: %d key(s), first %q", ErrDecrypt, len(bad), bad[0])
		if strict {
			return err
		}
		s.log.Error("postgres: keys dropped from the cache", "err", err)
	}
	t := new(table)
	for i := range tb.shards {
		t.shards[i].Store(tb.shards[i].build())
		tb.shards[i] = shardBuilder{} // its storage is the shard's or garbage now
	}
	keepNewer(t, s.table.Load(), dirty, s.shard)
	s.table.Store(t)
	// Keys reloaded one by one meanwhile (dirty) are newer than the
	// snapshot: the next check sees a different fingerprint and reloads,
	// which is harmless.
	s.cachedFP = s.loadedFP
	s.lastRefresh.Store(time.Now().UnixNano())
	return nil
}

// keepNewer completes t, a full load, with the keys in dirty: reloaded one
// by one while the load read its snapshot, so their versions in old (the
// table serving meanwhile) are newer; a dirty key old does not have was
// deleted. It sets t's size.
func keepNewer(t, old *table, dirty map[string]struct{}, shardOf func(string) int) {
	var n int64
	for i := range t.shards {
		n += int64(t.shards[i].Load().len())
	}
	t.size.Store(n)
	t.update(maps.Keys(dirty), shardOf, func(id string) (*entry, bool) {
		return old.shards[shardOf(id)].Load().entry(id)
	})
}

// update rebuilds the shards of t that hold ids: each id takes the entry
// newer gives, or leaves t when newer has none. It keeps t's size.
func (t *table) update(ids iter.Seq[string], shardOf func(string) int, newer func(id string) (*entry, bool)) {
	byShard := map[int][]string{}
	for id := range ids {
		i := shardOf(id)
		byShard[i] = append(byShard[i], id)
	}
	for i, ids := range byShard {
		m := t.shards[i].Load().entries()
		for _, id := range ids {
			_, had := m[id]
			if e, ok := newer(id); ok {
				m[id] = e
				if !had {
					t.size.Add(1)
				}
			} else if had {
				delete(m, id)
				t.size.Add(-1)
			}
		}
		t.shards[i].Store(buildShard(m))
	}
}

// reload refreshes the given keys: absent, revoked or undecryptable ones
// leave the cache.
func (s *Store) reload(ctx context.Context, ids []string) error {
	keys, bad, err := s.loadEntries(ctx, ids)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		s.log.Error("postgres: keys dropped from the cache", "err", fmt.Errorf("%w: %q", ErrDecrypt, bad))
	}
	found := make(map[string]*entry, len(keys))
	for _, e := range keys {
		found[e.id] = e
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.table.Load().update(slices.Values(ids), s.shard, func(id string) (*entry, bool) {
		e, ok := found[id]
		return e, ok
	})
	if s.refreshing {
		for _, id := range ids {
			s.dirty[id] = struct{}{}
		}
	}
	return nil
}

// loadSomeSQL reads a few live keys with their secrets (newest first) and
// upstreams, through the primary keys' indexes. A full load (loadAll) reads
// each table once instead.
const (
	keyColumns = `k.id, k.tenant, k.schemes, k.algorithms, k.max_expires_ms, k.single_use,
	k.rate_rps, k.rate_burst, k.bytes_per_minute, k.fail_open, k.public_key_pem`

	loadSomeSQL = `SELECT ` + keyColumns + `,
	ARRAY(SELECT s.version FROM signet_secrets s WHERE s.key_id = k.id ORDER BY s.version DESC),
	ARRAY(SELECT s.ciphertext FROM signet_secrets s WHERE s.key_id = k.id ORDER BY s.version DESC),
	ARRAY(SELECT u.origin FROM signet_upstreams u WHERE u.key_id = k.id ORDER BY u.origin),
	ARRAY(SELECT coalesce(u.headers_ciphertext, '') FROM signet_upstreams u WHERE u.key_id = k.id ORDER BY u.origin)
FROM signet_keys k WHERE k.revoked_at IS NULL AND k.id = ANY($1)`
)

// load reads the live keys among ids (all of them when ids is nil) and
// decrypts them. bad lists the ids that could not be decrypted.
func (s *Store) load(ctx context.Context, ids []string, dst sink) (bad []string, err error) {
	if s.sealer == nil {
		return nil, errors.New("postgres: no master key (set SIGNET_MASTER_KEY)")
	}
	err = s.pool.with(ctx, true, func(c *pgx.Conn) error {
		dst.reset()
		bad = bad[:0]
		if ids == nil {
			return s.loadAll(ctx, c, dst, &bad)
		}
		rows, err := c.Query(ctx, loadSomeSQL, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			versions []int32
			secrets  [][]byte
			origins  []string
			headers  [][]byte
		)
		for rows.Next() {
			var r keyRow
			if err := rows.Scan(&r.id, &r.tenant, &r.schemes, &r.algorithms, &r.maxExpiresMS, &r.singleUse,
				&r.rps, &r.burst, &r.bpm, &r.failOpen, &r.publicKey,
				&versions, &secrets, &origins, &headers); err != nil {
				return err
			}
			r.secrets = make([]secretRow, len(versions))
			for i := range versions {
				if i < len(secrets) {
					r.secrets[i] = secretRow{versions[i], secrets[i]}
				}
			}
			r.upstreams = make([]upstreamRow, len(origins))
			for i := range origins {
				if i < len(headers) {
					r.upstreams[i] = upstreamRow{origins[i], headers[i]}
				}
			}
			s.decodeInto(&r, dst, &bad)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: loading keys: %w", err)
	}
	return bad, nil
}

// loadEntries loads the keys ids as entries.
func (s *Store) loadEntries(ctx context.Context, ids []string) ([]*entry, []string, error) {
	var l entryList
	bad, err := s.load(ctx, ids, &l)
	return l.keys, bad, err
}

// sink receives the keys a load decodes.
type sink interface {
	add(k *signet.Key) error
	// reset forgets what was added: the load starts over (on another
	// connection).
	reset()
}

// entryList collects a few keys' entries.
type entryList struct{ keys []*entry }

func (l *entryList) add(k *signet.Key) error {
	e, err := newEntry(k)
	if err == nil {
		l.keys = append(l.keys, e)
	}
	return err
}

func (l *entryList) reset() { l.keys = l.keys[:0] }

// tableBuilder packs a full load's keys into shards as they come.
type tableBuilder struct {
	shardOf func(id string) int
	shards  [nShards]shardBuilder
}

func (t *tableBuilder) add(k *signet.Key) error { return t.shards[t.shardOf(k.ID)].add(k) }

func (t *tableBuilder) reset() { t.shards = [nShards]shardBuilder{} }

// loadAll reads the three tables in one repeatable-read snapshot, each
// through a cursor in key id order, and merges them as it goes: memory
// holds one batch of rows per table besides the keys loaded, where
// collecting every secret and upstream by id first doubled the peak (a
// million keys: ~800 MB). Revoked keys are read too, and skipped, so that
// every secret's and upstream's key id appears in the keys' order: the
// merge then needs only equality, never the database's collation.
func (s *Store) loadAll(ctx context.Context, c *pgx.Conn, dst sink, bad *[]string) error {
	return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// The fingerprint of the snapshot loaded, for refreshIfChanged.
		if err := tx.QueryRow(ctx, fingerprintSQL).Scan(&s.loadedFP); err != nil {
			return err
		}
		for _, q := range []string{
			`DECLARE signet_load_k NO SCROLL CURSOR FOR SELECT ` + keyColumns + `, k.revoked_at IS NOT NULL FROM signet_keys k ORDER BY k.id`,
			`DECLARE signet_load_s NO SCROLL CURSOR FOR SELECT key_id, version, ciphertext FROM signet_secrets ORDER BY key_id`,
			`DECLARE signet_load_u NO SCROLL CURSOR FOR SELECT key_id, origin, coalesce(headers_ciphertext, '') FROM signet_upstreams ORDER BY key_id`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		secrets := &cursor[secretRow]{tx: tx, batch: s.opts.loadBatch, name: "signet_load_s", scan: func(r pgx.Rows, id *string, v *secretRow) error {
			return r.Scan(id, &v.version, &v.ciphertext)
		}}
		upstreams := &cursor[upstreamRow]{tx: tx, batch: s.opts.loadBatch, name: "signet_load_u", scan: func(r pgx.Rows, id *string, v *upstreamRow) error {
			return r.Scan(id, &v.origin, &v.ciphertext)
		}}
		ks := &cursor[keyRow]{tx: tx, batch: s.opts.loadBatch, name: "signet_load_k", scan: func(r pgx.Rows, id *string, k *keyRow) error {
			err := r.Scan(&k.id, &k.tenant, &k.schemes, &k.algorithms, &k.maxExpiresMS, &k.singleUse,
				&k.rps, &k.burst, &k.bpm, &k.failOpen, &k.publicKey, &k.revoked)
			*id = k.id
			return err
		}}
		for {
			row, id, ok, err := ks.next(ctx)
			if err != nil || !ok {
				return err
			}
			if row.secrets, err = secrets.take(ctx, id, row.secrets[:0]); err != nil {
				return err
			}
			if row.upstreams, err = upstreams.take(ctx, id, row.upstreams[:0]); err != nil {
				return err
			}
			if row.revoked {
				continue // its rows are consumed all the same
			}
			slices.SortFunc(row.secrets, func(a, b secretRow) int { return int(b.version - a.version) })
			slices.SortFunc(row.upstreams, func(a, b upstreamRow) int { return strings.Compare(a.origin, b.origin) })
			s.decodeInto(&row, dst, bad)
		}
	})
}

// cursor reads a declared cursor in batches; rows are T with a key id.
type cursor[T any] struct {
	tx    pgx.Tx
	name  string
	batch int
	scan  func(r pgx.Rows, id *string, v *T) error
	ids   []string
	vals  []T
	pos   int
	done  bool
}

// fill fetches the next batch when the current one is used up; false at
// the end.
func (c *cursor[T]) fill(ctx context.Context) (bool, error) {
	if c.pos < len(c.vals) {
		return true, nil
	}
	if c.done {
		return false, nil
	}
	rows, err := c.tx.Query(ctx, "FETCH "+strconv.Itoa(c.batch)+" FROM "+c.name)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	c.ids, c.vals, c.pos = c.ids[:0], c.vals[:0], 0
	for rows.Next() {
		var id string
		var v T
		if err := c.scan(rows, &id, &v); err != nil {
			return false, err
		}
		c.ids = append(c.ids, id)
		c.vals = append(c.vals, v)
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	c.done = len(c.vals) < c.batch
	return len(c.vals) > 0, nil
}

// next returns the next row and its id.
func (c *cursor[T]) next(ctx context.Context) (v T, id string, ok bool, err error) {
	if ok, err = c.fill(ctx); !ok || err != nil {
		return v, "", false, err
	}
	v, id = c.vals[c.pos], c.ids[c.pos]
	c.pos++
	return v, id, true, nil
}

// take appends to dst the rows at the cursor's head whose id is id.
func (c *cursor[T]) take(ctx context.Context, id string, dst []T) ([]T, error) {
	for {
		ok, err := c.fill(ctx)
		if err != nil || !ok || c.ids[c.pos] != id {
			return dst, err
		}
		dst = append(dst, c.vals[c.pos])
		c.pos++
	}
}

type secretRow struct {
	version    int32
	ciphertext []byte
}

type upstreamRow struct {
	origin     string
	ciphertext []byte // empty when no headers are injected
}

// decodeInto hands r's key to dst, or appends its id to bad when it
// cannot be used (logged: a key that cannot be decrypted is refused, not
// skipped silently).
func (s *Store) decodeInto(r *keyRow, dst sink, bad *[]string) {
	k, err := s.decode(r)
	if err == nil {
		err = dst.add(k)
	}
	if err != nil {
		s.log.Error("postgres: cannot use key", "key", r.id, "err", err)
		*bad = append(*bad, r.id)
	}
}

type keyRow struct {
	id, tenant          string
	schemes, algorithms []string
	maxExpiresMS        int64
	singleUse, failOpen bool
	rps                 float64
	burst               int32
	bpm                 int64
	publicKey           *string
	revoked             bool          // read by a full load only, to skip it
	secrets             []secretRow   // newest first
	upstreams           []upstreamRow // by origin
}

func (s *Store) decode(r *keyRow) (*signet.Key, error) {
	k := &signet.Key{
		ID:         r.id,
		Tenant:     r.tenant,
		Schemes:    nilIfEmpty(r.schemes),
		Algorithms: nilIfEmpty(r.algorithms),
		MaxExpires: time.Duration(r.maxExpiresMS) * time.Millisecond,
		SingleUse:  r.singleUse,
		FailOpen:   r.failOpen,
		RateLimit: signet.RateLimit{
			RequestsPerSecond: r.rps,
			Burst:             int(r.burst),
			BytesPerMinute:    r.bpm,
		},
	}
	if r.publicKey != nil && *r.publicKey != "" {
		pub, err := parsePublicKey(*r.publicKey)
		if err != nil {
			return nil, err
		}
		k.PublicKey = pub.(crypto.PublicKey)
	}
	k.Secrets = make([]string, len(r.secrets))
	for i, sr := range r.secrets {
		pt, err := s.sealer.open(sr.ciphertext, secretAD(r.id, int(sr.version)))
		if err != nil {
			return nil, fmt.Errorf("secret version %d: %w", sr.version, err)
		}
		k.Secrets[i] = string(pt)
	}
	for _, ur := range r.upstreams {
		u := signet.Upstream{Origin: ur.origin}
		if len(ur.ciphertext) > 0 {
			pt, err := s.sealer.open(ur.ciphertext, headersAD(r.id, ur.origin))
			if err != nil {
				return nil, fmt.Errorf("headers of upstream %s: %w", ur.origin, err)
			}
			if err := json.Unmarshal(pt, &u.Headers); err != nil {
				return nil, fmt.Errorf("headers of upstream %s: %w", ur.origin, err)
			}
		}
		k.Upstreams = append(k.Upstreams, u)
	}
	return k, nil
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
