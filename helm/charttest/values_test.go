package charttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// TestBadValuesAreRejected: wrong values fail the rendering with a message that names the
// value and says what is wanted, and never echo a password.
func TestBadValuesAreRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts renderOpts
		want string
	}{
		{"no values at all", renderOpts{}, "missing property 'host'"},
		{"scheduler replicas", withSet("scheduler.replicas=2"), "at '/scheduler/replicas': value must be 1"},
		{"replicas as a string", renderOpts{files: defaults.files, setString: []string{"web.replicas=3"}}, "at '/web/replicas': got string, want integer"},
		{"zero replicas", withSet("worker.replicas=0"), "at '/worker/replicas': minimum: got 0, want 1"},
		{"base host missing", renderOpts{files: defaults.files, setJSON: []string{`host=""`}}, "at '/host': minLength: got 0, want 1"},
		{"base host not a DNS name", withSet("host=Epom.Example.cz"), "at '/host': 'Epom.Example.cz' does not match pattern"},
		{"tenant host not a DNS name", renderOpts{files: defaults.files, setJSON: []string{`ingress.tenantHosts=[{"host":"https://obec.cz"}]`}},
			"at '/ingress/tenantHosts/0/host'"},
		{"tenant host repeats the base host", renderOpts{files: defaults.files, setJSON: []string{`ingress.tenantHosts=[{"host":"epom.example.cz"}]`}},
			"ingress.tenantHosts: epom.example.cz is the base host"},
		{"tenant host twice", renderOpts{files: defaults.files, setJSON: []string{`ingress.tenantHosts=[{"host":"obec.cz"},{"host":"obec.cz"}]`}},
			"ingress.tenantHosts: obec.cz is listed twice"},
		{"misspelt key", withSet("webb.replicas=2"), "additional properties 'webb' not allowed"},
		{"unknown log level", withSet("config.logLevel=verbose"), "at '/config/logLevel': value must be one of 'debug', 'info', 'warn', 'error'"},
		{"duration without unit", withSet("config.tenantCacheTTL=30"), "at '/config/tenantCacheTTL'"},
		{"writable root filesystem", withSet("securityContext.readOnlyRootFilesystem=false"), "at '/securityContext/readOnlyRootFilesystem': value must be true"},
		{"root user", withSet("podSecurityContext.runAsNonRoot=false"), "at '/podSecurityContext/runAsNonRoot': value must be true"},
		{"added capability", renderOpts{files: defaults.files, setJSON: []string{`securityContext.capabilities.add=["NET_ADMIN"]`}},
			"at '/securityContext/capabilities/add': maxItems: got 1, want 0"},
		{"ingress open to everyone", renderOpts{files: defaults.files, setJSON: []string{`networkPolicy.ingressFrom=[]`}},
			"at '/networkPolicy/ingressFrom': minItems: got 0, want 1"},
		{"app DSN missing", withSet("database.app.url="), "database.app: set url (the chart creates a Secret) or existingSecret"},
		{"Redis missing", withSet("redis.url="), "redis: set url"},
		{"owner DSN missing while migrations run", withSet("database.owner.url="), "database.owner: set url"},
		{"url and existingSecret", withSet("database.platform.existingSecret=pg"), "database.platform: set either url"},
		{"wrong DSN scheme", withSet("database.app.url=mysql://epom:app-password@db:3306/epom"), "database.app.url: want a postgres:// or postgresql:// URL"},
		{"wrong Redis scheme", withSet("redis.url=http://:redis-password@redis:6379"), "redis.url: want a redis:// or rediss:// URL"},
		{"secret key missing", withSet("secretKey.value="),
			"secretKey: required (EPOM_SECRET_KEY encrypts the users' TOTP secrets; epom serve refuses to start without it): set value or existingSecret with existingSecretKey; generate one with `openssl rand -base64 32`"},
		{"secret key value and existingSecret", withSet("secretKey.existingSecret=epom-key"), "secretKey: set either value"},
		{"secret key also in extraEnv", renderOpts{files: defaults.files, setJSON: []string{
			`web.extraEnv=[{"name":"EPOM_SECRET_KEY","valueFrom":{"secretKeyRef":{"name":"epom-secret-key","key":"EPOM_SECRET_KEY"}}}]`}},
			"web.extraEnv: remove EPOM_SECRET_KEY; give it as secretKey.existingSecret"},
		{"secret key not base64", withSecretKey("not a base64 key but a password!"), badKey},
		{"secret key of 16 bytes", withSecretKey("c2l4dGVlbi1ieXRlLWtleQ=="), badKey},
		{"secret key of 33 bytes", withSecretKey("dGhpcnR5LXRocmVlLWJ5dGVzLW9mLWtleS1tYXRlcmlh"), badKey},
		{"secret key in URL-safe base64", withSecretKey("9-Hrod9UgNbfFSpQgiavlSflVe2wHst5cI2I8OC1_vs="), badKey},
		{"secret key without padding", withSecretKey("9+Hrod9UgNbfFSpQgiavlSflVe2wHst5cI2I8OC1/vs"), badKey},
		{"previous key not base64", withPreviousKeys(prevKey + ",not a key at all"), "secretKeyPrevious.value: key 2: want the base64 of exactly 32 bytes"},
		{"previous key is the current one", withPreviousKeys(ciSecretKey), "secretKeyPrevious.value: key 1 is secretKey.value"},
		{"previous keys as a value beside an existing Secret", renderOpts{files: production.files, setJSON: []string{"secretKeyPrevious.value=" + strconv.Quote(prevKey)}},
			"secretKeyPrevious.value: secretKey comes from secretKey.existingSecret"},
		{"previous keys' key without an existing Secret", withSet("secretKeyPrevious.existingSecretKey=previous"),
			"secretKeyPrevious.existingSecretKey: only with secretKey.existingSecret"},
		{"no trusted proxies behind the Ingress", renderOpts{files: defaults.files, setJSON: []string{`config.trustedProxies=[]`}},
			"config.trustedProxies: set the ingress controller's pod network"},
		{"unknown staff MFA policy", withSet("config.mfaStaff=never"), "at '/config/mfaStaff': value must be one of 'required', 'optional'"},
		{"argon2 below the OWASP minimum", withSet("config.argon2.memoryKiB=4096"), "at '/config/argon2/memoryKiB': minimum: got 4,096, want 19,456"},
		{"sign-in window without unit", withSet("config.signIn.ipWindow=15"), "at '/config/signIn/ipWindow'"},
		{"grace period shorter than the drain", withSet("web.terminationGracePeriodSeconds=25"),
			"web.terminationGracePeriodSeconds (25) must exceed config.shutdownTimeoutSeconds plus the preStop sleep (25)"},
		{"both PDB bounds", withSet("worker.podDisruptionBudget.minAvailable=1"), "worker.podDisruptionBudget: set minAvailable or maxUnavailable, not both"},
		{"no PDB bound", renderOpts{files: defaults.files, setJSON: []string{`web.podDisruptionBudget.maxUnavailable=""`}},
			"web.podDisruptionBudget: set minAvailable or maxUnavailable"},
		{"HPA min above max", withSet("web.autoscaling.enabled=true", "web.autoscaling.minReplicas=5", "web.autoscaling.maxReplicas=3"),
			"web.autoscaling: minReplicas (5) is greater than maxReplicas (3)"},
		{"bad image digest", withSet("image.digest=latest"), "at '/image/digest'"},
		{"bad alert duration", withSet("metrics.prometheusRule.alerts.errorRate.for=ten minutes"), "at '/metrics/prometheusRule/alerts/errorRate/for'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChart(tc.opts)
			if err == nil {
				t.Fatalf("rendered; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
			secrets := append([]string(nil), ciPasswords...)
			for _, s := range tc.opts.setString {
				if v, ok := strings.CutPrefix(s, "secretKey.value="); ok {
					secrets = append(secrets, v)
				}
			}
			for _, s := range tc.opts.setJSON {
				if v, ok := strings.CutPrefix(s, "secretKeyPrevious.value="); ok {
					secrets = append(secrets, strings.Split(strings.Trim(v, `"`), ",")...)
				}
			}
			for _, pw := range secrets {
				if strings.Contains(err.Error(), pw) {
					t.Errorf("the error shows the password %q: %v", pw, err)
				}
			}
		})
	}
}

func withSet(set ...string) renderOpts { return renderOpts{files: defaults.files, set: set} }

// badKey is the message for a secretKey.value that `epom serve` would not accept.
const badKey = "secretKey.value: want the base64 of exactly 32 bytes (44 characters ending in =); generate one with `openssl rand -base64 32` (the value is not shown because it is a secret)"

// withSecretKey sets secretKey.value verbatim (as a string: --set would split at commas).
func withSecretKey(v string) renderOpts {
	return renderOpts{files: defaults.files, setString: []string{"secretKey.value=" + v}}
}

// prevKey stands for an earlier EPOM_SECRET_KEY in secretKeyPrevious.value.
const prevKey = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

// withPreviousKeys sets secretKeyPrevious.value verbatim, as JSON: --set and --set-string
// would split at the commas.
func withPreviousKeys(v string) renderOpts {
	return renderOpts{files: defaults.files, setJSON: []string{"secretKeyPrevious.value=" + strconv.Quote(v)}}
}

// TestSchemaIsSelfContained: every $ref of values.schema.json points into the file itself,
// and the schema compiles with no loader for remote documents (Helm would fetch them).
func TestSchemaIsSelfContained(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "$ref" || k == "$dynamicRef") && !strings.HasPrefix(s, "#") {
					t.Errorf("%s/%s = %q refers outside the file", path, k, s)
				}
				if s, ok := x.(string); ok && k == "$id" {
					t.Errorf("%s/$id = %q: the schema must not rename itself", path, s)
				}
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("", doc)

	sch, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler() // no http(s) loader: a remote reference fails to compile
	if err := c.AddResource("file:///values.schema.json", sch); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile("file:///values.schema.json"); err != nil {
		t.Fatalf("compile values.schema.json offline: %v", err)
	}
}

// TestEveryValueIsDocumented: every value of values.yaml, and every top-level property of
// the schema that values.yaml leaves out, appears in the chart README as `path`.
func TestEveryValueIsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(raw, &vals); err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := prefix + k
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 && !freeForm(p) {
				walk(p+".", sub)
				continue
			}
			paths = append(paths, p)
		}
	}
	walk("", vals)
	var schema struct {
		Properties map[string]any `json:"properties"`
	}
	sraw, _ := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err := json.Unmarshal(sraw, &schema); err != nil {
		t.Fatal(err)
	}
	// Required values without a default (host) are in the schema only.
	for k := range schema.Properties {
		if _, inValues := vals[k]; !inValues && k != "global" {
			paths = append(paths, k)
		}
	}
	sort.Strings(paths)
	documented := regexp.MustCompile("`([A-Za-z0-9_.]+)`").FindAllStringSubmatch(string(readme), -1)
	have := map[string]bool{}
	for _, m := range documented {
		have[m[1]] = true
	}
	for _, p := range paths {
		if !have[p] {
			t.Errorf("value %s is not documented in helm/epom/README.md", p)
		}
	}
}

// freeForm values are maps passed to Kubernetes as written (labels, resources, probe
// timing…) or groups of the same few fields (an alert, an egress rule): documented as a
// whole, not key by key.
func freeForm(path string) bool {
	for _, group := range []string{"metrics.prometheusRule.alerts.", "networkPolicy.egress."} {
		if strings.HasPrefix(path, group) {
			return true
		}
	}
	last := path[strings.LastIndex(path, ".")+1:]
	switch last {
	case "resources", "podSecurityContext", "securityContext", "labels", "annotations", "behavior",
		"startupProbe", "livenessProbe", "readinessProbe", "ingressFrom", "metricsFrom":
		return true
	}
	return false
}
