package charttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir    = "../epom"
	releaseName = "epom"
	namespace   = "obce"
	// The oldest Kubernetes the chart supports (Chart.yaml kubeVersion): rendering for it
	// proves the chart asks for nothing newer.
	kubeVersion = "v1.30.0"
)

// object is one rendered manifest, decoded into its typed Go value.
type object struct {
	source string // the template it came from
	kind   string
	name   string
	hook   bool
	meta   *metav1.ObjectMeta
	value  any    // *appsv1.Deployment, *corev1.Secret, …
	json   []byte // the manifest as JSON, for searches across every field
}

// rendered is everything a release would create, hooks included.
type rendered struct {
	objects []object
	notes   string // NOTES.txt as `helm install` prints it
}

func (r rendered) all(kind string) []object {
	var out []object
	for _, o := range r.objects {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func (r rendered) find(kind, name string) (object, bool) {
	for _, o := range r.objects {
		if o.kind == kind && o.name == name {
			return o, true
		}
	}
	return object{}, false
}

func (r rendered) must(t *testing.T, kind, name string) object {
	t.Helper()
	o, ok := r.find(kind, name)
	if !ok {
		t.Fatalf("no %s %q rendered; have %s", kind, name, r.inventory())
	}
	return o
}

func (r rendered) inventory() string {
	var names []string
	for _, o := range r.objects {
		names = append(names, o.kind+"/"+o.name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func deployment(t *testing.T, r rendered, component string) *appsv1.Deployment {
	t.Helper()
	return r.must(t, "Deployment", releaseName+"-"+component).value.(*appsv1.Deployment)
}

// exponent finds a YAML value printed in exponent notation, as Go prints a float64 from a
// million on.
var exponent = regexp.MustCompile(`(?m)^\s*[-\w./]+:\s+-?[0-9.]+e[+-]?[0-9]+\s*$`)

// sourceComment is the line Helm puts above each manifest to name its template.
var sourceComment = regexp.MustCompile(`(?m)^# Source: (\S+)`)

// renderOpts are the values of one rendering, as the helm command line gives them.
type renderOpts struct {
	files     []string // -f, relative to the chart unless absolute
	set       []string // --set
	setString []string // --set-string
	setJSON   []string // --set-json
	setFile   []string // --set-file
}

// renderChart renders the chart as `helm template` does (client-only install dry run: the
// same value merging, schema validation, template functions and hook separation).
func renderChart(opts renderOpts) (rendered, error) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return rendered{}, fmt.Errorf("load chart: %w", err)
	}
	vo := values.Options{StringValues: opts.setString, Values: opts.set, JSONValues: opts.setJSON, FileValues: opts.setFile}
	for _, f := range opts.files {
		if !filepath.IsAbs(f) {
			f = filepath.Join(chartDir, f)
		}
		vo.ValueFiles = append(vo.ValueFiles, f)
	}
	vals, err := vo.MergeValues(getter.Providers{})
	if err != nil {
		return rendered{}, err
	}
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return rendered{}, err
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.DryRunOption = "client"
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = releaseName
	install.Namespace = namespace
	install.KubeVersion = kv
	rel, err := install.Run(chrt, vals)
	if err != nil {
		return rendered{}, err
	}
	r := rendered{notes: rel.Info.Notes}
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		source := "?"
		if m := sourceComment.FindStringSubmatch(doc); m != nil {
			source = m[1]
		}
		o, err := decode(source, doc, false)
		if err != nil {
			return rendered{}, err
		}
		if o != nil {
			r.objects = append(r.objects, *o)
		}
	}
	for _, h := range rel.Hooks {
		o, err := decode(h.Path, h.Manifest, true)
		if err != nil {
			return rendered{}, err
		}
		if o != nil {
			r.objects = append(r.objects, *o)
		}
	}
	sort.Slice(r.objects, func(i, j int) bool {
		return r.objects[i].kind+"/"+r.objects[i].name < r.objects[j].kind+"/"+r.objects[j].name
	})
	return r, nil
}

// mustRender renders and fails the test on any error.
func mustRender(t *testing.T, opts renderOpts) rendered {
	t.Helper()
	r, err := renderChart(opts)
	if err != nil {
		t.Fatalf("render %+v: %v", opts, err)
	}
	return r
}

// newTyped returns the Go type a kind decodes into. A kind the chart starts to render
// without being listed here fails the test, so every manifest is always decoded strictly.
func newTyped(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "batch/v1/Job":
		return &batchv1.Job{}, nil
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, nil
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, nil
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &monitoringv1.PrometheusRule{}, nil
	}
	return nil, fmt.Errorf("no Go type for %s %s: add it to newTyped", apiVersion, kind)
}

// decode turns one YAML document into its typed object: YAML to JSON refusing duplicate
// keys, then JSON into the type refusing unknown fields, so a misspelt or misplaced field
// fails here instead of being dropped silently by the API server.
func decode(source, doc string, hook bool) (*object, error) {
	// YAML to JSON would quietly turn 2.592e+06 back into an integer; other tools do not.
	if m := exponent.FindString(doc); m != "" {
		return nil, fmt.Errorf("%s: a number in exponent notation (%s): print values through int64", source, strings.TrimSpace(m))
	}
	js, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil // a template that rendered only comments
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	v, err := newTyped(tm.APIVersion, tm.Kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("%s: %s %s does not decode strictly: %w", source, tm.APIVersion, tm.Kind, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: trailing data after the object", source)
	}
	meta := v.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
	return &object{source: source, kind: tm.Kind, name: meta.Name, hook: hook, meta: meta, value: v, json: js}, nil
}
