package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants"
)

// benchSlug names the seeded tenants; nothing else in a database has this prefix.
const benchSlug = "bench-"

// runBenchNoticeboard (`epom bench noticeboard`) compares the public notice board of epom
// (the real server handler, in this process) with a bare net/http + pgx handler serving the
// same rows from the same database: one round trip per request, no cache. Both are driven at
// the same fixed concurrency over random tenants in interleaved rounds (A, B, A, B …), since
// on a shared machine the load of others drifts; the ratio is the median of the rounds' ratios.
func runBenchNoticeboard(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench noticeboard", flag.ContinueOnError)
	fs.SetOutput(out)
	nTenants := fs.Int("tenants", 1000, "tenants to seed (bench-0001 …)")
	nNotices := fs.Int("notices", 200, "posted notices per tenant")
	conc := fs.Int("concurrency", 32, "requests in flight")
	duration := fs.Duration("duration", 20*time.Second, "length of one round of one handler and page")
	rounds := fs.Int("rounds", 3, "rounds per handler and page (interleaved)")
	warm := fs.Bool("warm", true, "request every tenant's pages once before measuring (fills epom's cache)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured rounds (this whole process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.Contains(cfg.DatabaseURL, "bench") {
		return usagef("epom bench noticeboard seeds its own data: point EPOM_DATABASE_URL (and the platform and owner URLs) at a dedicated database whose name contains \"bench\" (see docs/benchmarks.md)")
	}
	cfg.LogLevel = "error" // a log line per request would measure the logger
	slugs, err := seedNoticeboard(ctx, cfg, *nTenants, *nNotices, out)
	if err != nil {
		return err
	}

	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	srv, err := a.server(ctx, nil)
	if err != nil {
		return err
	}
	epomURL, stopEpom, err := listen(srv)
	if err != nil {
		return err
	}
	defer stopEpom()
	// The bare handler gets a pool as large as the server's, as the app role.
	barePool, err := openPool(ctx, cfg.DatabaseURL, cfg.DBMaxConns, "app")
	if err != nil {
		return err
	}
	defer barePool.Close()
	bareURL, stopBare, err := listen(bareHandler(barePool))
	if err != nil {
		return err
	}
	defer stopBare()

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2, MaxConnsPerHost: *conc * 2}}
	pages := []struct{ name, path string }{{"board page", "/o/%s/uredni-deska"}, {"JSON-LD", "/o/%s/uredni-deska.jsonld"}}
	targets := []struct{ name, url string }{{"epom", epomURL}, {"bare", bareURL}}
	if *warm {
		for _, p := range pages {
			for _, t := range targets {
				if err := warmUp(ctx, client, t.url+p.path, slugs, *conc); err != nil {
					return fmt.Errorf("warm %s %s: %w", t.name, p.name, err)
				}
			}
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(out, "%d tenants × %d notices, concurrency %d, %d interleaved rounds of %s per handler and page\n",
		len(slugs), *nNotices, *conc, *rounds, *duration)
	for _, p := range pages {
		var ratios []float64
		var res [2][]loadResult
		for round := 0; round < *rounds; round++ {
			for i, t := range targets {
				r, err := drive(ctx, client, t.url+p.path, slugs, *conc, *duration)
				if err != nil {
					return fmt.Errorf("%s %s: %w", t.name, p.name, err)
				}
				res[i] = append(res[i], r)
				fmt.Fprintf(out, "  %-10s round %d %-4s %7.0f req/s  p50 %6s  p99 %6s  (%d requests)\n", p.name, round+1, t.name,
					r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.n)
			}
			ratios = append(ratios, res[0][round].rps/res[1][round].rps)
		}
		e, b := medianResult(res[0]), medianResult(res[1])
		fmt.Fprintf(out, "%-10s epom %7.0f req/s p50 %s p99 %s | bare %7.0f req/s p50 %s p99 %s | epom/bare %.2f× (median of rounds)\n",
			p.name, e.rps, e.p50.Round(10*time.Microsecond), e.p99.Round(10*time.Microsecond),
			b.rps, b.p50.Round(10*time.Microsecond), b.p99.Round(10*time.Microsecond), median(ratios))
	}
	return nil
}

// seedNoticeboard makes n active tenants with the notice board on, each with m posted
// notices, unless they exist already; it returns their slugs.
func seedNoticeboard(ctx context.Context, cfg config.Config, n, m int, out io.Writer) ([]string, error) {
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 2, "platform")
	if err != nil {
		return nil, err
	}
	defer platform.Close()
	app, err := openPool(ctx, cfg.DatabaseURL, 2, "app")
	if err != nil {
		return nil, err
	}
	defer app.Close()
	slugsOf := func() ([]string, error) {
		rows, err := platform.Query(ctx, `SELECT slug FROM tenants WHERE slug LIKE $1 ORDER BY slug`, benchSlug+"%")
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	slugs, err := slugsOf()
	if err != nil {
		return nil, fmt.Errorf("bench tenants: %w (did you run `epom migrate up` on the bench database?)", err)
	}
	if len(slugs) > 0 {
		if len(slugs) != n {
			return nil, fmt.Errorf("the database holds %d bench tenants, not %d: recreate it", len(slugs), n)
		}
		return slugs, nil
	}
	start := time.Now()
	// Tenants of real municipalities (their catalogue row gives the name and IČO).
	if _, err := platform.Exec(ctx, `INSERT INTO tenants (id, kod_obce, slug, status)
		SELECT gen_random_uuid(), kod_obce, $1 || lpad(row_number() OVER (ORDER BY kod_obce)::text, 4, '0'), 'active'
		FROM catalogue_municipalities ORDER BY kod_obce LIMIT $2`, benchSlug, n); err != nil {
		return nil, fmt.Errorf("seed tenants: %w", err)
	}
	if _, err := platform.Exec(ctx, `INSERT INTO tenant_modules (tenant_id, module_id)
		SELECT id, 'noticeboard' FROM tenants WHERE slug LIKE $1`, benchSlug+"%"); err != nil {
		return nil, fmt.Errorf("seed modules: %w", err)
	}
	author := tenants.NewID()
	if _, err := app.Exec(ctx, `INSERT INTO users (id, email, name) VALUES ($1, $2, 'Bench')`, author,
		"bench-"+author.String()[:8]+"@epom.test"); err != nil {
		return nil, fmt.Errorf("seed author: %w", err)
	}
	rows, err := platform.Query(ctx, `SELECT id FROM tenants WHERE slug LIKE $1 ORDER BY slug`, benchSlug+"%")
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	// One pipelined batch per 100 tenants; row-level security admits each tenant's rows under
	// its own app.tenant_id.
	for i := 0; i < len(ids); i += 100 {
		b := &pgx.Batch{}
		for _, id := range ids[i:min(i+100, len(ids))] {
			b.Queue(`SELECT set_config('app.tenant_id', $1, false)`, id.String())
			b.Queue(`INSERT INTO noticeboard_notices (tenant_id, id, state, title, body, category, reference_number,
					posting_at, posted_at, revision, author_id, created_at, updated_at)
				SELECT $1, gen_random_uuid(), 'posted', 'Oznámení č. ' || g || ' – veřejná vyhláška',
					'Obecní úřad oznamuje, že ' || g || '. zasedání zastupitelstva se koná v zasedací místnosti.' ||
					E'\n\nProgram je přílohou oznámení.',
					(ARRAY['vyhlasky','rozpocet','uzemni-plan','zakazky','volby','jine-urady','ostatni'])[1 + g % 7],
					'OU/' || g || '/2026', t, t, 1, $2, t, t
				FROM generate_series(1, $3::int) g, LATERAL (SELECT now() - g * interval '1 hour' AS t) x`, id, author, m)
		}
		if err := app.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("seed notices: %w", err)
		}
	}
	fmt.Fprintf(out, "seeded %d tenants × %d notices in %s\n", len(ids), m, time.Since(start).Round(time.Millisecond))
	return slugsOf()
}

// bareHandler serves the board page and its JSON-LD the plain way: per request one pipelined
// round trip (the tenant from its slug into app.tenant_id, then the notices, under row-level
// security like the app), a minimal template, no cache.
func bareHandler(pool *pgxpool.Pool) http.Handler {
	page := template.Must(template.New("").Parse(`<!doctype html><html lang="cs"><meta charset="utf-8">
<title>Úřední deska – {{.Name}}</title><h1>Úřední deska – {{.Name}}</h1><p>Nalezeno oznámení: {{.Total}}</p><ul>
{{range .Notices}}<li><a href="/o/{{$.Slug}}/uredni-deska/{{.ID}}">{{.Title}}</a> {{.Category}} č. j. {{.Ref}} vyvěšeno {{.Posted}}</li>
{{end}}</ul>`))
	type notice struct {
		ID                   uuid.UUID
		Title, Category, Ref string
		Body                 string `json:"-"`
		PostedAt, UpdatedAt  time.Time
		RelevantUntil        *time.Time
		Posted               string `json:"-"`
		total                int
	}
	type view struct {
		Name, Slug string
		Total      int
		Notices    []notice
	}
	query := func(r *http.Request, slug string, limit int) (view, error) {
		v := view{Slug: slug}
		b := &pgx.Batch{}
		b.Queue(`SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = $1 AND status = 'active'), true)`, slug)
		b.Queue(`SELECT n.id, n.title, n.category, n.reference_number, n.body, n.posted_at, n.updated_at, n.relevant_until,
				count(*) OVER (), c.nazev
			FROM noticeboard_notices n JOIN tenants t ON t.id = n.tenant_id
			JOIN catalogue_municipalities c ON c.kod_obce = t.kod_obce
			WHERE n.tenant_id = current_setting('app.tenant_id')::uuid AND n.state = 'posted'
			ORDER BY n.posted_at DESC, n.id DESC LIMIT $1`, limit).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var n notice
				if err := rows.Scan(&n.ID, &n.Title, &n.Category, &n.Ref, &n.Body, &n.PostedAt, &n.UpdatedAt, &n.RelevantUntil, &v.Total, &v.Name); err != nil {
					return err
				}
				n.Posted = n.PostedAt.Format("2. 1. 2006 15:04")
				v.Notices = append(v.Notices, n)
			}
			return rows.Err()
		})
		return v, pool.SendBatch(r.Context(), b).Close()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /o/{slug}/{page}", func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("slug")
		switch r.PathValue("page") {
		case "uredni-deska":
			v, err := query(r, slug, 20)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = page.Execute(w, v)
		case "uredni-deska.jsonld":
			v, err := query(r, slug, 10_000)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			type item struct {
				Typ      string    `json:"typ"`
				IRI      string    `json:"iri"`
				Název    string    `json:"název"`
				Popis    string    `json:"popis"`
				Vyvěšení time.Time `json:"vyvěšení"`
				ČJ       string    `json:"číslo_jednací"`
			}
			doc := struct {
				Context   string `json:"@context"`
				Typ       string `json:"typ"`
				Název     string `json:"název"`
				Informace []item `json:"informace"`
			}{Context: "https://ofn.gov.cz/úřední-desky/2021-07-20/kontexty/úřední-deska.jsonld", Typ: "Úřední deska", Název: v.Name}
			for _, n := range v.Notices {
				doc.Informace = append(doc.Informace, item{Typ: "Digitální objekt", IRI: "/o/" + slug + "/uredni-deska/" + n.ID.String(),
					Název: n.Title, Popis: n.Body, Vyvěšení: n.PostedAt, ČJ: n.Ref})
			}
			w.Header().Set("Content-Type", "application/ld+json; charset=utf-8")
			_ = json.NewEncoder(w).Encode(doc)
		default:
			http.NotFound(w, r)
		}
	})
	return mux
}

// listen serves h on a free loopback port.
func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

func warmUp(ctx context.Context, client *http.Client, pattern string, slugs []string, conc int) error {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(slugs) || ctx.Err() != nil {
					return
				}
				if err := fetchOK(client, fmt.Sprintf(pattern, slugs[i])); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	return ctx.Err()
}

func fetchOK(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n == 0 {
		return fmt.Errorf("GET %s: %d (%d bytes)", url, resp.StatusCode, n)
	}
	return nil
}

type loadResult struct {
	n        int
	rps      float64
	p50, p99 time.Duration
}

// drive requests pattern for random tenants from conc workers for d.
func drive(ctx context.Context, client *http.Client, pattern string, slugs []string, conc int, d time.Duration) (loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	lats := make([][]time.Duration, conc)
	errs := make(chan error, conc)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := fetchOK(client, fmt.Sprintf(pattern, slugs[rng.IntN(len(slugs))])); err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return loadResult{}, err
	default:
	}
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return loadResult{}, errors.New("no request completed")
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return loadResult{n: len(all), rps: float64(len(all)) / elapsed.Seconds(), p50: pct(0.5), p99: pct(0.99)}, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianResult is the round with the median throughput.
func medianResult(rs []loadResult) loadResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b loadResult) int { return int(a.rps - b.rps) })
	return s[len(s)/2]
}
