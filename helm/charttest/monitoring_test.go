package charttest

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// repoRoot is the product's source tree, scanned for the metric names it exports.
const repoRoot = "../.."

// TestPrometheusRule: the alerts requested by issue #6 exist, every expression parses as
// PromQL, is confined to this release's series and names only metrics the binary exports,
// and every annotation is a template Prometheus can execute.
func TestPrometheusRule(t *testing.T) {
	known := exportedMetrics(t)
	r := mustRender(t, production)
	pr := r.must(t, "PrometheusRule", "epom").value.(*monitoringv1.PrometheusRule)

	alerts := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		for _, rule := range g.Rules {
			alerts[rule.Alert] = true
			expr := rule.Expr.String()
			checkPromQL(t, rule.Alert, expr, known)
			if !strings.Contains(expr, `namespace="obce",job="epom"`) {
				t.Errorf("%s is not confined to this release: %s", rule.Alert, expr)
			}
			if rule.For == nil {
				t.Errorf("%s has no for", rule.Alert)
			} else if _, err := model.ParseDuration(string(*rule.For)); err != nil {
				t.Errorf("%s for %q: %v", rule.Alert, *rule.For, err)
			}
			if rule.Labels["severity"] == "" {
				t.Errorf("%s has no severity", rule.Alert)
			}
			for _, key := range []string{"summary", "description"} {
				checkAlertTemplate(t, rule.Alert+" "+key, rule.Annotations[key])
			}
		}
	}
	for _, want := range []string{"EpomHighErrorRate", "EpomHighLatencyP99", "EpomJobQueueLatency", "EpomOutboxBacklog", "EpomJobsDeadLettered", "EpomJobFailureRate"} {
		if !alerts[want] {
			t.Errorf("no alert %s", want)
		}
	}

	// A custom selector replaces the default in every expression; a switched-off alert is gone.
	r = mustRender(t, renderOpts{files: production.files, set: []string{
		`metrics.prometheusRule.selector=cluster="cz1"\,service="epom"`,
		"metrics.prometheusRule.alerts.webDown.enabled=false",
	}})
	for _, g := range r.must(t, "PrometheusRule", "epom").value.(*monitoringv1.PrometheusRule).Spec.Groups {
		for _, rule := range g.Rules {
			if rule.Alert == "EpomWebDown" {
				t.Error("EpomWebDown is rendered although disabled")
			}
			if expr := rule.Expr.String(); !strings.Contains(expr, `cluster="cz1",service="epom"`) || strings.Contains(expr, `job="epom"`) {
				t.Errorf("%s ignores metrics.prometheusRule.selector: %s", rule.Alert, expr)
			}
		}
	}
}

// TestServiceMonitor: it scrapes /metrics on port ops of the Service epom-metrics, which
// leads to the web container's port ops (EPOM_OPS_ADDR), keeps job="epom" for the rules and
// the dashboard, and never selects the public web Service.
func TestServiceMonitor(t *testing.T) {
	r := mustRender(t, production)
	sm := r.must(t, "ServiceMonitor", "epom").value.(*monitoringv1.ServiceMonitor)
	svc := r.must(t, "Service", "epom-metrics").value.(*corev1.Service)
	sel := labels.SelectorFromSet(sm.Spec.Selector.MatchLabels)
	if !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the Service %s (labels %v)", sm.Spec.Selector.MatchLabels, svc.Name, svc.Labels)
	}
	if public := r.must(t, "Service", "epom").value.(*corev1.Service); sel.Matches(labels.Set(public.Labels)) {
		t.Errorf("ServiceMonitor selector %v selects the public Service too", sm.Spec.Selector.MatchLabels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "ops" || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Fatalf("ServiceMonitor endpoints %+v, want /metrics on port ops", sm.Spec.Endpoints)
	}
	i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "ops" })
	if i < 0 || svc.Spec.Ports[i].TargetPort.String() != "ops" {
		t.Fatalf("Service %s ports %+v: want port ops to the container's port ops", svc.Name, svc.Spec.Ports)
	}
	web := deployment(t, r, "web").Spec.Template
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(web.Labels)) {
		t.Errorf("Service %s selector %v does not select the web pods", svc.Name, svc.Spec.Selector)
	}
	if !slices.ContainsFunc(container(web.Spec).Ports, func(p corev1.ContainerPort) bool { return p.Name == "ops" }) {
		t.Errorf("web container ports %+v lack ops", container(web.Spec).Ports)
	}
	job := ""
	for _, rc := range sm.Spec.Endpoints[0].RelabelConfigs {
		if rc.TargetLabel == "job" && rc.Replacement != nil {
			job = *rc.Replacement
		}
	}
	if job != "epom" {
		t.Errorf("ServiceMonitor sets job to %q, want epom (the rules' and the dashboard's selector)", job)
	}
	if sm.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack metrics.serviceMonitor.labels", sm.Labels)
	}
}

// TestGrafanaDashboard: the dashboard is valid JSON, its queries parse and name exported
// metrics, and the ConfigMap carries the file unchanged.
func TestGrafanaDashboard(t *testing.T) {
	known := exportedMetrics(t)
	raw, err := os.ReadFile(filepath.Join(chartDir, "dashboards", "epom.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			ID      int                `json:"id"`
			Type    string             `json:"type"`
			Title   string             `json:"title"`
			GridPos struct{ X, W int } `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboards/epom.json: %v", err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Error("the dashboard needs a uid and a title")
	}
	// Grafana's variables, as they would be substituted at query time.
	vars := strings.NewReplacer("$__rate_interval", "5m", "$namespace", "obce", "$job", "epom")
	ids, queries := map[int]bool{}, 0
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d repeats", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q is wider than the dashboard", p.Title)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			queries++
			if !strings.Contains(q.Expr, `namespace="$namespace",job="$job"`) {
				t.Errorf("panel %q ignores the namespace and release variables: %s", p.Title, q.Expr)
			}
			checkPromQL(t, "panel "+p.Title, vars.Replace(q.Expr), known)
		}
	}
	if queries < 20 {
		t.Errorf("only %d queries in the dashboard", queries)
	}

	r := mustRender(t, production)
	cm := r.must(t, "ConfigMap", "epom-dashboard").value.(*corev1.ConfigMap)
	if strings.TrimSpace(cm.Data["epom.json"]) != strings.TrimSpace(string(raw)) {
		t.Error("the dashboard ConfigMap does not carry dashboards/epom.json unchanged")
	}
}

// checkPromQL parses expr and checks that every metric it names is exported.
func checkPromQL(t *testing.T, what, expr string, known map[string]bool) {
	t.Helper()
	ast, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v\n%s", what, err, expr)
		return
	}
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if !metricExported(name, known) {
			t.Errorf("%s: metric %q is not exported by the binary", what, name)
		}
		return nil
	})
}

func metricExported(name string, known map[string]bool) bool {
	if name == "up" || known[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && known[base] {
			return true
		}
	}
	// The Go and process collectors of client_golang, when the binary registers them.
	return (strings.HasPrefix(name, "go_") && known["<go collector>"]) ||
		(strings.HasPrefix(name, "process_") && known["<process collector>"])
}

// exportedMetrics lists the epom_* metric names in the product's Go source (tests aside),
// so a renamed metric fails here instead of leaving an alert that never fires.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	name := regexp.MustCompile(`"(epom_[a-z0-9_]+)"`)
	known := map[string]bool{}
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "frontend", "helm", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range name.FindAllSubmatch(src, -1) {
			known[string(m[1])] = true
		}
		if strings.Contains(string(src), "collectors.NewGoCollector(") {
			known["<go collector>"] = true
		}
		if strings.Contains(string(src), "collectors.NewProcessCollector(") {
			known["<process collector>"] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !known["epom_http_requests_total"] {
		t.Fatalf("no epom_http_requests_total found under %s: is the source tree there?", repoRoot)
	}
	return known
}

// checkAlertTemplate executes an annotation the way Prometheus does: with $labels and $value
// defined and its humanize functions available.
func checkAlertTemplate(t *testing.T, what, text string) {
	t.Helper()
	if strings.TrimSpace(text) == "" {
		t.Errorf("%s is empty", what)
		return
	}
	funcs := template.FuncMap{}
	for _, f := range []string{"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp"} {
		funcs[f] = func(v any) string { return "1" }
	}
	const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}"
	tmpl, err := template.New(what).Option("missingkey=error").Funcs(funcs).Parse(defs + text)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	data := map[string]any{"Labels": map[string]string{"queue": "critical", "pool": "app", "source": "redis"},
		"ExternalLabels": map[string]string{}, "Value": 0.5}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
