package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"syscall"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/gateway"
	"github.com/signet-dev/signet/postgres"
	"github.com/signet-dev/signet/redis"
)

const serveSummary = `Usage: signet serve [--config FILE] [--listen ADDR] [flags]
       signet serve <id> <secret> [--header 'Name: value']... [--allow-origin URL]... [flags]

Runs the gateway. With --config it serves the YAML file (docs/config.md); the
file is reloaded on SIGHUP and when it changes (a bad new file keeps the old
configuration). Without it, the Signway-style quick start serves one key
(<id> <secret>, or SW_ID and SW_SECRET) for SW1 pre-signed URLs on
0.0.0.0:$PORT (default 3000), injecting the --header values into every
forwarded request. With no --allow-origin any public target origin is
allowed; loopback, private, link-local and metadata addresses are refused
unless listed with --allow-origin.

Stores (docs/scaling.md): --store postgres://... (or the config's store:)
takes the keys from PostgreSQL (managed with "signet keys"; secrets are
decrypted with SIGNET_MASTER_KEY); --redis redis://... (or redis:) shares
single-use signatures, nonces, rate limits and usage between replicas.
Neither is read from the environment: only the config or a flag turns them
on. Default: keys from the file, state in memory.`

// stringList collects a repeatable flag; a value may also hold a
// comma-separated list.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// serveOptions are the parsed command line of serve.
type serveOptions struct {
	configPath   string
	listen       string
	id, secret   string
	headers      headerFlags
	allowOrigins stringList
	corsOrigins  stringList
	corsMethods  stringList
	corsHeaders  stringList
	corsExpose   stringList
	logLevel     string
	reloadEvery  time.Duration
	store        string
	redis        string
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o serveOptions
	fs := newFlagSet("serve", serveSummary, stderr)
	fs.StringVar(&o.configPath, "config", "", "YAML configuration `file` (see docs/config.md)")
	fs.StringVar(&o.listen, "listen", "", "listen `address` host:port; overrides the config file and PORT")
	fs.Var(&o.headers, "header", "quick start: header injected into forwarded requests, 'Name: value' (repeatable)")
	fs.Var(&o.allowOrigins, "allow-origin", "allowed target `origin` (repeatable); an origin listed is allowed even on a private address")
	fs.Var(&o.corsOrigins, "cors-origin", "CORS: allowed browser `origin` (repeatable; default *)")
	fs.Var(&o.corsMethods, "cors-method", "CORS: allowed `method` (repeatable; default *)")
	fs.Var(&o.corsHeaders, "cors-header", "CORS: allowed request `header` (repeatable; default *)")
	fs.Var(&o.corsExpose, "cors-expose-header", "CORS: response `header` the page may read (repeatable)")
	fs.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error (default: the config's, info)")
	fs.DurationVar(&o.reloadEvery, "watch-interval", 2*time.Second, "how often the config file is checked for changes; 0 disables")
	fs.StringVar(&o.store, "store", "", "PostgreSQL key store `URL` (postgres://...); overrides the config's store")
	fs.StringVar(&o.redis, "redis", "", "Redis `URL` (redis://...) for shared replay, rate limits and usage; overrides the config's redis")

	// Flags may follow the positional <id> <secret>, as in Signway's
	// quick start: parse, take one positional argument, parse again.
	var positional []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch len(positional) {
	case 0:
	case 2:
		o.id, o.secret = positional[0], positional[1]
	default:
		return usageError(fs, stderr, "want <id> <secret>, or no arguments with --config")
	}

	cfg, err := o.config(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "signet serve: %v\n", err)
		return &exitError{code: 2}
	}
	logger := newLogger(stderr, cfg.Log.Level)
	st, err := openStores(ctx, cfg, getenv, logger)
	if err != nil {
		fmt.Fprintf(stderr, "signet serve: %v\n", err)
		return &exitError{code: 1}
	}
	defer st.close()
	gw := &gateway.Gateway{Logger: logger, Keys: st.keys, Replay: st.replay, Limiter: st.limiter, Usage: st.usage, Checks: st.checks}
	if err := gw.Reload(cfg); err != nil {
		fmt.Fprintf(stderr, "signet serve: %v\n", err)
		return &exitError{code: 2}
	}
	defer gw.Close()
	warnPublic(logger, gw)
	// Not on the way to listening: little is left to release at start.
	n := len(cfg.Keys)
	if ks, ok := st.keys.(interface{ Len() int }); ok {
		n = max(n, ks.Len()) // a PostgreSQL store's cache
	}
	go afterLoad(0, n, getenv, logger)
	return serve(ctx, gw, cfg, &o, getenv, logger)
}

// afterLoad runs once a config with keys keys replaced one with prev. When
// either is large, it returns to the OS the memory loading took beyond the
// keys (and a reload, the old keys), which the heap would otherwise keep
// until it grew that large again, then sizes the GC to the keys (tuneGC).
func afterLoad(prev, keys int, getenv func(string) string, logger *slog.Logger) {
	if max(prev, keys) < 10000 {
		return
	}
	debug.FreeOSMemory()
	if pct, live, changed := tuneGC(getenv); changed {
		logger.Info("garbage collector sized to the keys (set GOGC to choose)", "gc_percent", pct, "live_heap_mb", live>>20)
	}
}

// gcHeadroom is how far the heap may grow over the live heap once that
// is large (gcPercent).
const gcHeadroom = 100 << 20

// gcMinHeadroom is the least the heap may grow over the live heap between
// collections (gcPercent). Go's default lets a heap grow by as much as is
// live, at least 4 MB: a gateway with a few MB live then collected every few
// hundred small requests under load, and each collection's fixed cost
// (waking the mark workers, assists, sweeping) came to a tenth of the CPU of
// a proxied request (bench/README.md). 16 MB more heap buys that back.
const gcMinHeadroom = 16 << 20

// gcRetune is how often serve re-sizes the collector to the live heap,
// which moves with the connections held and the keys cached.
const gcRetune = 2 * time.Second

// tuneGC sets the GC percent for the heap now live (gcPercent), unless the
// environment sets GOGC or GOMEMLIMIT: the operator's choice wins. It
// returns the percent set, the live heap, and whether the percent changed.
func tuneGC(getenv func(string) string) (pct int, live uint64, changed bool) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0, 0, false
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	metrics.Read(s)
	for _, m := range s {
		if m.Value.Kind() != metrics.KindUint64 {
			return 0, 0, false
		}
	}
	live = s[0].Value.Uint64()
	pct = gcPercent(live, s[1].Value.Uint64()+s[2].Value.Uint64())
	old := debug.SetGCPercent(pct)
	return pct, live, old != pct
}

// tuneGCLoop re-sizes the collector every gcRetune until ctx ends.
func tuneGCLoop(ctx context.Context, getenv func(string) string, logger *slog.Logger) {
	t := time.NewTicker(gcRetune)
	defer t.Stop()
	for {
		if pct, live, changed := tuneGC(getenv); changed {
			logger.Debug("garbage collector re-sized (set GOGC to choose)", "gc_percent", pct, "live_heap_mb", live>>20)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// gcPercent is the GC percent (GOGC) for a live heap of live bytes and
// roots bytes of goroutine stacks and globals: the heap may grow by as much
// as is live, but by at least gcMinHeadroom and at most gcHeadroom. The
// default, 100, would let a million keys (220 MB, live as long as the
// config) take a loaded gateway to 450 MB, though requests need a few MB:
// above gcHeadroom the percent falls, never below 25 (the keys are never
// garbage and requests allocate little, so collections stay rare).
//
// The runtime's heap goal is live + (live + roots) × GOGC/100, but never
// below 4 MB × GOGC/100 (its heap minimum): the percent is the smaller of
// the two that give live + headroom.
func gcPercent(live, roots uint64) int {
	const heapMinimum = 4 << 20
	headroom := min(max(live, gcMinHeadroom), gcHeadroom)
	byGrowth := 100 * headroom / max(live+roots, 1<<20)
	byMinimum := 100 * (live + headroom) / heapMinimum
	return max(25, int(min(byGrowth, byMinimum)))
}

// config builds the configuration: defaults, then the file or the quick
// start, then flags. It checks everything but the keys (ValidateSettings);
// gateway.Reload validates the whole.
func (o *serveOptions) config(getenv func(string) string) (*config.Config, error) {
	if o.id == "" && o.secret == "" && o.configPath == "" {
		o.id, o.secret = getenv("SW_ID"), getenv("SW_SECRET")
	}
	var cfg *config.Config
	switch {
	case o.configPath != "" && o.id != "":
		return nil, errors.New("use either --config FILE or the quick start <id> <secret>, not both")
	case o.id != "" && o.store != "":
		return nil, errors.New("--store serves the keys of a database; the quick start's <id> <secret> is one key: use one or the other")
	case o.configPath != "":
		if len(o.headers) > 0 {
			return nil, errors.New("--header belongs to the quick start; with --config, set keys[].upstreams[].headers or routes[].headers")
		}
		var err error
		if cfg, err = config.Load(o.configPath, getenv); err != nil {
			return nil, err
		}
		cfg.AllowOrigins = append(cfg.AllowOrigins, o.allowOrigins...)
	case o.id != "" || o.secret != "":
		if o.id == "" || o.secret == "" {
			return nil, errors.New("the quick start needs both <id> and <secret> (or SW_ID and SW_SECRET)")
		}
		cfg = quickStart(o, getenv)
	default:
		return nil, errors.New("nothing to serve: pass --config FILE (see examples/signet.yaml), or <id> <secret> (or SW_ID and SW_SECRET) for the Signway-style quick start")
	}
	if o.listen != "" {
		cfg.Listen = o.listen
	}
	if o.store != "" {
		cfg.Store = o.store
	}
	if o.redis != "" {
		cfg.Redis = o.redis
	}
	if len(o.corsOrigins) > 0 {
		cfg.CORS.AllowOrigins = o.corsOrigins
	}
	if len(o.corsMethods) > 0 {
		cfg.CORS.AllowMethods = o.corsMethods
	}
	if len(o.corsHeaders) > 0 {
		cfg.CORS.AllowHeaders = o.corsHeaders
	}
	if len(o.corsExpose) > 0 {
		cfg.CORS.ExposeHeaders = o.corsExpose
	}
	if o.logLevel != "" {
		cfg.Log.Level = o.logLevel
	}
	// The keys are checked once, by gw.Reload: a million of them take a
	// while. The rest is checked here, before any store is opened.
	if err := cfg.ValidateSettings(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// quickStart is Signway's command line as a config: one key, SW1 only,
// every target (or the --allow-origin ones) getting the --header values.
func quickStart(o *serveOptions, getenv func(string) string) *config.Config {
	cfg := config.Default()
	port := getenv("PORT")
	if port == "" {
		port = "3000"
	}
	cfg.Listen = net.JoinHostPort("0.0.0.0", port)
	inject := map[string]string{}
	for name, values := range o.headers.Header() {
		inject[name] = strings.Join(values, ", ")
	}
	k := config.Key{ID: o.id, Secrets: []string{o.secret}, Schemes: []string{"sw1"}}
	origins := []string(o.allowOrigins)
	if len(origins) == 0 {
		origins = []string{"*"}
	}
	for _, origin := range origins {
		k.Upstreams = append(k.Upstreams, config.Upstream{Origin: origin, Headers: inject})
	}
	cfg.Keys = []config.Key{k}
	return cfg
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func warnPublic(logger *slog.Logger, gw *gateway.Gateway) {
	for _, id := range gw.PublicOriginsAllowed() {
		logger.Warn("pre-signed URLs of this key may reach any public origin; restrict them with --allow-origin or keys[].upstreams",
			"key_id", id)
	}
}

// serve runs the HTTP server until ctx is cancelled, then shuts down
// gracefully: in-flight requests and streams may finish until the shutdown
// deadline.
func serve(ctx context.Context, gw *gateway.Gateway, cfg *config.Config, o *serveOptions, getenv func(string) string, logger *slog.Logger) error {
	l := cfg.Limits
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: l.ReadHeaderTimeout.D(),
		ReadTimeout:       l.ReadTimeout.D(),
		WriteTimeout:      l.WriteTimeout.D(),
		IdleTimeout:       l.IdleTimeout.D(),
		MaxHeaderBytes:    int(l.MaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.H2C && cfg.TLS.CertFile == "" {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	tlsOn := cfg.TLS.CertFile != ""
	logger.Info("listening", "addr", ln.Addr().String(), "tls", tlsOn, "h2c", cfg.H2C && !tlsOn, "keys", len(cfg.Keys), "routes", len(cfg.Routes))

	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			// HTTP/2 is negotiated over TLS by default.
			errc <- srv.ServeTLS(ln, cfg.TLS.CertFile, cfg.TLS.KeyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()

	reloadCtx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	go tuneGCLoop(reloadCtx, getenv, logger)
	if o.configPath != "" {
		go watchConfig(reloadCtx, gw, o, getenv, logger)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stopReload()
	timeout := l.ShutdownTimeout.D()
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	logger.Info("shutting down", "deadline", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown deadline passed; closing remaining connections", "err", err)
		_ = srv.Close()
	}
	logger.Info("stopped")
	return nil
}

// watchConfig reloads the config file on SIGHUP and when its size or
// modification time changes. A file that fails to load or validate is
// logged and the running configuration kept. Listen address and server
// limits need a restart.
func watchConfig(ctx context.Context, gw *gateway.Gateway, o *serveOptions, getenv func(string) string, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	stamp := func() string {
		fi, err := os.Stat(o.configPath)
		if err != nil {
			return ""
		}
		return fmt.Sprint(fi.ModTime().UnixNano(), fi.Size())
	}
	last := stamp()
	var tick <-chan time.Time
	if o.reloadEvery > 0 {
		t := time.NewTicker(o.reloadEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		why := "sighup"
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-tick:
			s := stamp()
			if s == last || s == "" {
				continue
			}
			last, why = s, "file changed"
		}
		old := gw.Config()
		cfg, err := o.config(getenv)
		if err == nil && old != nil && (cfg.Store != old.Store || cfg.Redis != old.Redis) {
			err = errors.New("store and redis cannot change while running: restart to switch stores")
		}
		if err == nil {
			err = gw.Reload(cfg)
		}
		if err != nil {
			logger.Error("config reload failed; keeping the running configuration", "trigger", why, "err", err.Error())
			continue
		}
		logger.Info("config reloaded", "trigger", why, "keys", len(cfg.Keys), "routes", len(cfg.Routes))
		warnPublic(logger, gw)
		prev := 0
		if old != nil {
			prev = len(old.Keys)
		}
		afterLoad(prev, len(cfg.Keys), getenv, logger)
	}
}

// stores are the key store and shared state the gateway uses: PostgreSQL
// and Redis when the config names them, else the gateway's in-memory
// defaults (nil fields).
type stores struct {
	keys    signet.KeyStore
	replay  signet.ReplayStore
	limiter signet.RateLimiter
	usage   signet.UsageRecorder
	checks  []gateway.Check
	closers []func()
}

func (s *stores) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// openStores connects the stores cfg names. A store that cannot be opened
// at start is an error: starting without the keys (or the shared state) it
// holds would refuse every request, or enforce nothing, silently.
func openStores(ctx context.Context, cfg *config.Config, getenv func(string) string, logger *slog.Logger) (_ *stores, err error) {
	st := &stores{}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if cfg.Store != "" {
		mk := getenv("SIGNET_MASTER_KEY")
		if mk == "" {
			return nil, errors.New("store: set SIGNET_MASTER_KEY (the key the secrets are encrypted with)")
		}
		master, err := postgres.ParseMasterKey(mk)
		if err != nil {
			return nil, fmt.Errorf("store: SIGNET_MASTER_KEY: %w", err)
		}
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		ps, err := postgres.Open(octx, cfg.Store, master, postgres.Options{Logger: logger.With("store", "postgres")})
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		st.closers = append(st.closers, ps.Close)
		st.keys = ps
		st.checks = append(st.checks, gateway.Check{Name: "postgres", Check: ps.Ready})
		logger.Info("keys from PostgreSQL")
	}
	if cfg.Redis != "" {
		if err := openRedis(ctx, cfg.Redis, st, logger); err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		logger.Info("replay, rate limits and usage shared in Redis")
	}
	return st, nil
}

// openRedis points replay, rate limits and usage at Redis. An unreachable
// Redis at start is an error; later outages are the keys' fail_open
// choice, and the client reconnects by itself.
func openRedis(ctx context.Context, rawURL string, st *stores, logger *slog.Logger) error {
	c, err := redis.Open(rawURL)
	if err != nil {
		return err
	}
	redis.SetLogger(logger)
	st.closers = append(st.closers, func() { _ = c.Close() })
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx); err != nil {
		return err
	}
	st.replay = &redis.ReplayStore{Client: c}
	st.limiter = &redis.RateLimiter{Client: c}
	st.usage = &redis.Usage{Client: c}
	st.checks = append(st.checks, gateway.Check{Name: "redis", Check: c.Ping})
	return nil
}
