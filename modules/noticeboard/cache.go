package noticeboard

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/epom-cz/epom/internal/pubsub"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
)

// The public board is read far more often than it changes, by citizens and by harvesters of
// the open data, across every tenant of the deployment. Each replica keeps the rendered
// public responses in a bounded LRU and drops a tenant's entries when its board changes.
//
// Coherence across replicas: a change is published on Redis (boardChannel) after its
// transaction commits, the same way tenants.Resolver invalidates tenants. The alternative, one
// indexed version query per request, would cost as much database work as rendering a cached
// page saves and would tie every public hit to PostgreSQL; pub/sub keeps a hit in memory. A
// message lost while Redis reconnects is bounded by cacheMaxAge. The posting and take-down
// jobs change the board through the same Store.InTx, so a notice scheduled for a minute is
// invalidated everywhere when the job commits it.
//
// HTTP: responses say `Cache-Control: public, no-cache`, i.e. a browser or proxy may keep a
// copy but must revalidate it every time. A notice legally hangs from its minute (and stops
// hanging at its take-down minute); a max-age would let a copy show the board as it was before
// up to that long. Revalidation is cheap: a matching ETag or If-Modified-Since gets 304 from
// the in-process cache without touching the database. The ETag is strong: the SHA-256 of the
// bytes the module rendered plus what the surrounding layout shows of the tenant (its
// profile), so it is the same on every replica and changes exactly when the output does.

// boardChannel carries "tenant X's public board changed" between processes (the worker posts
// scheduled notices; the web replicas serve them).
const boardChannel = "epom:noticeboard:changed"

// Limits of the page cache; memory stays bounded however many tenants there are.
const (
	DefaultCacheBytes   = 64 << 20
	DefaultCacheEntries = 20_000
	// cacheMaxAge bounds staleness when an invalidation message is lost.
	cacheMaxAge = 10 * time.Minute
)

// pageCache is the in-process cache of rendered public responses.
type pageCache struct {
	redis      *redis.Client // nil: this process only (tests, single process)
	maxBytes   int
	maxEntries int
	now        func() time.Time
	group      singleflight.Group

	mu      sync.Mutex
	lru     *list.List // of *cacheEntry, most recent first
	entries map[string]*list.Element
	gens    map[uuid.UUID]uint64 // per tenant, bumped by every change of its board
	bytes   int
}

// cachedResponse is one rendered public response.
type cachedResponse struct {
	status      int
	page        bool // body goes inside the public layout (p.Page) with title
	title       string
	header      http.Header
	body        []byte // nil when gz holds it
	gz          []byte // a complete document (JSON-LD, feeds), compressed: ~10× more fit in memory
	etag        string
	modified    time.Time
	contentType string
}

type cacheEntry struct {
	key     string
	tenant  uuid.UUID
	gen     uint64
	expires time.Time
	resp    *cachedResponse
}

func newPageCache(rdb *redis.Client, maxBytes, maxEntries int) *pageCache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	return &pageCache{redis: rdb, maxBytes: maxBytes, maxEntries: maxEntries, now: time.Now,
		lru: list.New(), entries: map[string]*list.Element{}, gens: map[uuid.UUID]uint64{}}
}

func (e *cacheEntry) size() int {
	return len(e.key) + len(e.resp.body) + len(e.resp.gz) + len(e.resp.title) + 256
}

// gen is the tenant's current generation; a render started under an older one is not stored.
func (c *pageCache) gen(tenant uuid.UUID) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens[tenant]
}

func (c *pageCache) get(tenant uuid.UUID, key string) (*cachedResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if e.gen != c.gens[tenant] || c.now().After(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.resp, true
}

func (c *pageCache) put(tenant uuid.UUID, key string, gen uint64, resp *cachedResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gens[tenant] {
		return // the board changed while this was rendered: it may show the old state
	}
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	e := &cacheEntry{key: key, tenant: tenant, gen: gen, expires: c.now().Add(cacheMaxAge), resp: resp}
	if e.size() > c.maxBytes/4 {
		return
	}
	c.entries[key] = c.lru.PushFront(e)
	c.bytes += e.size()
	for c.bytes > c.maxBytes || c.lru.Len() > c.maxEntries {
		c.remove(c.lru.Back())
	}
}

func (c *pageCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.bytes -= e.size()
}

// drop forgets tenant's entries here. Bumping the generation is enough (stale entries miss
// and age out of the LRU); removing them at once returns their memory.
func (c *pageCache) drop(tenant uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[tenant]++
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*cacheEntry).tenant == tenant {
			c.remove(el)
		}
		el = next
	}
}

// invalidate drops tenant's entries here and, through Redis, in every other process. Call it
// after the change committed, never before: a request could otherwise cache the old state.
func (c *pageCache) invalidate(ctx context.Context, tenant uuid.UUID) {
	c.drop(tenant)
	if c.redis == nil {
		return
	}
	if err := c.redis.Publish(context.WithoutCancel(ctx), boardChannel, tenant.String()).Err(); err != nil {
		slog.WarnContext(ctx, "publish notice board invalidation", "tenant", tenant, "err", err)
	}
}

// listen applies the invalidations of other processes until ctx ends.
func (c *pageCache) listen(ctx context.Context) {
	pubsub.Each(ctx, c.redis, boardChannel, func(payload string) {
		if id, err := uuid.Parse(payload); err == nil {
			c.drop(id)
		}
	})
}

// Len and Bytes describe the cache, for tests and metrics.
func (c *pageCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Listen applies notice board invalidations published by other processes until ctx ends; the
// web server runs it beside tenants.Resolver.Listen.
func (m *Module) Listen(ctx context.Context) {
	if m.cache != nil {
		m.cache.listen(ctx)
	}
}

// renderFunc renders one public response into w (headers and body) or through p.Page, and
// may call p.NotFound. r is always a GET.
type renderFunc func(w http.ResponseWriter, r *http.Request, p modules.PublicRequest)

// cached serves a public response of the board from the cache, rendering it with render on a
// miss. key names the kind of response ("board", "notice", "jsonld", "rss" …); the tenant, the
// path, the query, the language and the tenant's profile are added here. Only 200 responses
// are kept; a 304 answers a matching If-None-Match (or If-Modified-Since).
//
// Any public handler of the board can use it:
//
//	m.cached(w, r, p, "rss", func(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) { m.serveRSS(w, r, p) })
func (m *Module) cached(w http.ResponseWriter, r *http.Request, p modules.PublicRequest, key string, render renderFunc) {
	c := m.cache
	if c == nil {
		render(w, r, p)
		return
	}
	tenant := p.Tenant.ID
	profile := profileTag(p)
	full := cacheKey(tenant, key, p, r.URL.Query(), profile)
	resp, ok := c.get(tenant, full)
	if !ok {
		// One render per key at a time: after a change, a burst of readers waits for one.
		v, _, _ := c.group.Do(full, func() (any, error) {
			if resp, ok := c.get(tenant, full); ok {
				return resp, nil
			}
			gen := c.gen(tenant)
			resp := record(r, p, render)
			if resp.status == http.StatusOK {
				resp.finish(profile, c.now())
				c.put(tenant, full, gen, resp)
			}
			return resp, nil
		})
		resp = v.(*cachedResponse)
	}
	resp.serve(w, r, p)
}

func profileTag(p modules.PublicRequest) string {
	return p.Profile.DisplayName + "\x00" + strconv.FormatInt(p.Profile.UpdatedAt.UnixNano(), 36) + "\x00" + p.Tenant.Name
}

func cacheKey(tenant uuid.UUID, key string, p modules.PublicRequest, q url.Values, profile string) string {
	var b strings.Builder
	b.WriteString(tenant.String())
	for _, s := range []string{key, p.Rest, p.Lang, q.Encode(), profile} { // Encode sorts the query
		b.WriteByte(0)
		b.WriteString(s)
	}
	return b.String()
}

// recorder captures what a render writes.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rw *recorder) Header() http.Header { return rw.header }
func (rw *recorder) WriteHeader(status int) {
	if rw.status == 0 {
		rw.status = status
	}
}
func (rw *recorder) Write(b []byte) (int, error) {
	rw.WriteHeader(http.StatusOK)
	return rw.body.Write(b)
}

// record runs render as a GET into a recorder. A not-found or a page with another status is
// kept in the response (not cached) and replayed by serve.
func record(r *http.Request, p modules.PublicRequest, render renderFunc) *cachedResponse {
	rw := &recorder{header: http.Header{}}
	out := &cachedResponse{}
	notFound := false
	p.Page = func(status int, title string, body template.HTML) {
		out.page, out.title = true, title
		rw.WriteHeader(status)
		rw.body.WriteString(string(body))
	}
	p.NotFound = func() {
		notFound = true
		rw.WriteHeader(http.StatusNotFound)
	}
	get := r
	if r.Method != http.MethodGet {
		get = r.Clone(r.Context())
		get.Method = http.MethodGet
	}
	render(rw, get, p)
	out.status = rw.status
	if out.status == 0 {
		out.status = http.StatusOK
	}
	if notFound {
		out.status = 0 // serve calls p.NotFound
	}
	out.header, out.body = rw.header, rw.body.Bytes()
	return out
}

// finish computes the validators of a 200 response.
func (resp *cachedResponse) finish(profile string, now time.Time) {
	h := sha256.New()
	h.Write([]byte(profile))
	h.Write([]byte{0})
	h.Write([]byte(resp.title))
	h.Write([]byte{0})
	h.Write([]byte(resp.header.Get("Content-Type")))
	h.Write([]byte{0})
	h.Write(resp.body)
	resp.etag = `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	resp.modified = now.UTC().Truncate(time.Second)
	resp.header.Del("Cache-Control")
	resp.header.Del("Content-Length")
	if resp.page || len(resp.body) < 1024 {
		return
	}
	// Documents are kept compressed and sent so to clients that accept gzip (all harvesters
	// and browsers do); pages go into the layout and stay plain.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(resp.body); err == nil && zw.Close() == nil {
		resp.gz, resp.body = buf.Bytes(), nil
	}
}

// acceptsGzip reads Accept-Encoding: gzip listed without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		return !found || strings.Trim(q, "0.") != ""
	}
	return false
}

func (resp *cachedResponse) serve(w http.ResponseWriter, r *http.Request, p modules.PublicRequest) {
	if resp.status == 0 {
		p.NotFound()
		return
	}
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = slices.Clone(vs) // the cached header is shared by every request
	}
	gz := resp.gz != nil && acceptsGzip(r)
	if resp.gz != nil {
		h.Add("Vary", "Accept-Encoding")
	}
	if resp.etag != "" {
		h.Set("ETag", resp.etag)
		if gz { // a strong validator names one representation
			h.Set("ETag", strings.TrimSuffix(resp.etag, `"`)+`-gz"`)
		}
		h.Set("Last-Modified", resp.modified.Format(http.TimeFormat))
		h.Set("Cache-Control", "public, no-cache")
		if notModified(r, resp) {
			h.Del("Content-Type")
			h.Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if resp.page {
		p.Page(resp.status, resp.title, template.HTML(resp.body))
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	w.WriteHeader(resp.status)
	switch {
	case r.Method == http.MethodHead:
	case gz:
		_, _ = w.Write(resp.gz)
	case resp.gz == nil:
		_, _ = w.Write(resp.body)
	default:
		if zr, err := gzip.NewReader(bytes.NewReader(resp.gz)); err == nil {
			_, _ = io.Copy(w, zr)
		}
	}
}

// notModified applies RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
func notModified(r *http.Request, resp *cachedResponse) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimSpace(tag)
			tag = strings.Replace(strings.TrimPrefix(tag, "W/"), `-gz"`, `"`, 1)
			if tag == "*" || tag == resp.etag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !resp.modified.After(t)
	}
	return false
}

// boardChanges collects, during one Store.InTx, whether the public board changed.
type boardChanges struct{ changed bool }

type boardChangesKey struct{}

// inTx runs fn in a tenant transaction and, after it committed, invalidates the tenant's
// cached public responses if fn changed what the public sees. Nested calls join the
// outermost, which invalidates once after the commit.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, nested := ctx.Value(boardChangesKey{}).(*boardChanges); nested || s.onChange == nil {
		return s.db.InTx(ctx, fn)
	}
	ch := &boardChanges{}
	if err := s.db.InTx(context.WithValue(ctx, boardChangesKey{}, ch), fn); err != nil {
		return err
	}
	if ch.changed {
		if tid, err := tenants.IDFrom(ctx); err == nil {
			s.onChange(ctx, tid)
		}
	}
	return nil
}

// publicChange notes that n, as written, may change the public board: it is (or was just)
// posted or taken down. Drafts, approvals and schedules are invisible to the public.
func publicChange(ctx context.Context, n Notice) {
	if n.State != StatePosted && n.State != StateArchived {
		return
	}
	if ch, ok := ctx.Value(boardChangesKey{}).(*boardChanges); ok {
		ch.changed = true
	}
}

// CacheConfig configures the public page cache.
type CacheConfig struct {
	// Redis carries invalidations between processes; nil keeps them in this process.
	Redis *redis.Client
	// MaxBytes [DefaultCacheBytes] and MaxEntries [DefaultCacheEntries] bound its memory.
	MaxBytes, MaxEntries int
}
