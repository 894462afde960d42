package charttest

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// ciSecretKey is secretKey.value of ci/default-values.yaml.
const ciSecretKey = "9+Hrod9UgNbfFSpQgiavlSflVe2wHst5cI2I8OC1/vs="

// The passwords and the secret key in ci/*.yaml: none of them may appear in any object but a
// Secret, nor in an error message.
var ciPasswords = []string{"app-password", "platform-password", "owner-password", "redis-password", "smtp-password", ciSecretKey}

var defaults = renderOpts{files: []string{"ci/default-values.yaml"}}
var production = renderOpts{files: []string{"ci/production-values.yaml"}}

// TestDefaultValues renders the chart with only the required values and checks what the
// defaults give: fixed replica counts, the chart's own Secrets, the whole set of objects.
func TestDefaultValues(t *testing.T) {
	r := mustRender(t, defaults)
	checkInvariants(t, r)

	want := []string{
		"ConfigMap/epom", "Deployment/epom-scheduler", "Deployment/epom-web", "Deployment/epom-worker",
		"Ingress/epom", "Job/epom-migrate", "NetworkPolicy/epom", "NetworkPolicy/epom-ops", "NetworkPolicy/epom-web",
		"PodDisruptionBudget/epom-web", "PodDisruptionBudget/epom-worker",
		"Secret/epom-env", "Secret/epom-migrate", "Service/epom", "Service/epom-metrics",
		"ServiceAccount/epom", "ServiceAccount/epom-migrate",
	}
	if got := r.inventory(); got != strings.Join(want, ", ") {
		t.Errorf("objects:\n got %s\nwant %s", got, strings.Join(want, ", "))
	}
	for _, c := range []string{"web", "worker"} {
		if d := deployment(t, r, c); d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("%s replicas = %v, want 2 (no HPA by default)", c, d.Spec.Replicas)
		}
	}

	env := r.must(t, "Secret", "epom-env").value.(*corev1.Secret)
	if _, ok := env.StringData["EPOM_OWNER_DATABASE_URL"]; ok {
		t.Error("the run-time Secret holds the owner DSN")
	}
	if got := env.StringData["EPOM_SECRET_KEY"]; got != ciSecretKey {
		t.Errorf("the run-time Secret's EPOM_SECRET_KEY = %q, want secretKey.value", got)
	}
	for _, c := range []string{"web", "worker", "scheduler"} {
		if ref := envVar(container(deployment(t, r, c).Spec.Template.Spec), "EPOM_SECRET_KEY").ValueFrom.SecretKeyRef; ref.Name != "epom-env" || ref.Key != "EPOM_SECRET_KEY" {
			t.Errorf("%s EPOM_SECRET_KEY from %s/%s, want epom-env/EPOM_SECRET_KEY", c, ref.Name, ref.Key)
		}
	}
	owner := r.must(t, "Secret", "epom-migrate")
	if !owner.hook || owner.meta.Annotations["helm.sh/hook-delete-policy"] != "before-hook-creation,hook-succeeded" {
		t.Errorf("the owner DSN Secret must be a hook deleted once the hooks succeed, got hook=%v annotations %v",
			owner.hook, owner.meta.Annotations)
	}

	cm := r.must(t, "ConfigMap", "epom").value.(*corev1.ConfigMap)
	for k, want := range map[string]string{
		"EPOM_HTTP_ADDR": ":8080", "EPOM_BASE_URL": "https://epom.example.cz",
		"EPOM_MAX_BODY_BYTES": "1048576", "EPOM_SHUTDOWN_TIMEOUT": "20s",
		"EPOM_MAIL_FROM": "epom <noreply@epom.example.cz>", "EPOM_TRUSTED_PROXIES": "10.244.0.0/16",
		// The binary's own defaults (`epom --help`).
		"EPOM_MFA_STAFF": "required", "EPOM_VERIFY_TTL": "48h", "EPOM_RESET_TTL": "1h",
		"EPOM_SIGNIN_IP_MAX": "20", "EPOM_SIGNIN_IP_WINDOW": "15m", "EPOM_SIGNIN_ACCOUNT_MAX": "5",
		"EPOM_SIGNIN_LOCK": "1m", "EPOM_SIGNIN_LOCK_MAX": "1h",
		"EPOM_ACCOUNT_MAIL_PER_IP": "20", "EPOM_ACCOUNT_MAIL_PER_ADDRESS": "3",
		"EPOM_ARGON2_MEMORY_KIB": "19456", "EPOM_ARGON2_ITERATIONS": "2", "EPOM_ARGON2_PARALLELISM": "1",
	} {
		if cm.Data[k] != want {
			t.Errorf("ConfigMap %s = %q, want %q", k, cm.Data[k], want)
		}
	}
	if _, ok := cm.Data["EPOM_SECRET_KEY"]; ok {
		t.Error("the ConfigMap holds EPOM_SECRET_KEY")
	}
}

// TestSecretKeyValue: a key given as a value, e.g. with --set-file from `openssl rand -base64
// 32 > key`, reaches the chart's Secret without the file's newline; the binary would accept
// the newline, but a checksum or a comparison with the backup copy would not.
func TestSecretKeyValue(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte(ciSecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustRender(t, renderOpts{files: defaults.files, setFile: []string{"secretKey.value=" + key}})
	checkInvariants(t, r)
	if got := r.must(t, "Secret", "epom-env").value.(*corev1.Secret).StringData["EPOM_SECRET_KEY"]; got != ciSecretKey {
		t.Errorf("EPOM_SECRET_KEY = %q, want %q", got, ciSecretKey)
	}
}

// TestSecretKeyPrevious: the keys a rotation replaced reach every long-running component
// from the same Secret as EPOM_SECRET_KEY, the chart's (secretKey.value, spaces dropped) or
// the operator's (secretKey.existingSecret); without them the variable is not set at all.
func TestSecretKeyPrevious(t *testing.T) {
	const prev2 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
	for _, tc := range []struct {
		name       string
		opts       renderOpts
		secret     string // the Secret and key of EPOM_SECRET_KEY_PREVIOUS; "" for none
		key        string
		chartValue string // what the chart's Secret holds
	}{
		{name: "none by default", opts: defaults},
		{name: "as a value", opts: withPreviousKeys(prevKey + ", " + prev2),
			secret: "epom-env", key: "EPOM_SECRET_KEY_PREVIOUS", chartValue: prevKey + "," + prev2},
		{name: "in the existing Secret", opts: renderOpts{files: production.files, set: []string{"secretKeyPrevious.existingSecretKey=previous"}},
			secret: "epom-secret-key", key: "previous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, tc.opts)
			checkInvariants(t, r)
			if sec, ok := r.find("Secret", "epom-env"); ok {
				if got := sec.value.(*corev1.Secret).StringData["EPOM_SECRET_KEY_PREVIOUS"]; got != tc.chartValue {
					t.Errorf("the chart's Secret EPOM_SECRET_KEY_PREVIOUS = %q, want %q", got, tc.chartValue)
				}
			}
			for _, c := range []string{"web", "worker", "scheduler"} {
				e := envVar(container(deployment(t, r, c).Spec.Template.Spec), "EPOM_SECRET_KEY_PREVIOUS")
				switch {
				case tc.secret == "" && e != nil:
					t.Errorf("%s has EPOM_SECRET_KEY_PREVIOUS %+v without previous keys", c, e)
				case tc.secret != "" && (e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
					e.ValueFrom.SecretKeyRef.Name != tc.secret || e.ValueFrom.SecretKeyRef.Key != tc.key):
					t.Errorf("%s EPOM_SECRET_KEY_PREVIOUS = %+v, want secret %s key %s", c, e, tc.secret, tc.key)
				}
			}
		})
	}
}

// TestProductionValues renders a production-like release: existing Secrets, autoscaling,
// tenant domains, monitoring.
func TestProductionValues(t *testing.T) {
	r := mustRender(t, production)
	checkInvariants(t, r)

	for _, c := range []string{"web", "worker"} {
		d := deployment(t, r, c)
		if d.Spec.Replicas != nil {
			t.Errorf("%s sets replicas (%d) although its HPA owns them", c, *d.Spec.Replicas)
		}
		hpa := r.must(t, "HorizontalPodAutoscaler", "epom-"+c).value.(*autoscalingv2.HorizontalPodAutoscaler)
		if hpa.Spec.ScaleTargetRef.Name != d.Name || hpa.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("HPA %s targets %+v", hpa.Name, hpa.Spec.ScaleTargetRef)
		}
	}
	if pdb := r.must(t, "PodDisruptionBudget", "epom-web").value.(*policyv1.PodDisruptionBudget); pdb.Spec.MinAvailable == nil ||
		pdb.Spec.MinAvailable.IntValue() != 2 || pdb.Spec.MaxUnavailable != nil {
		t.Errorf("web PDB = %+v, want minAvailable 2 only", pdb.Spec)
	}

	// Credentials come from the operator's Secrets; the chart's Secret has only SMTP, and no
	// owner Secret is made.
	web := container(deployment(t, r, "web").Spec.Template.Spec)
	for name, ref := range map[string][2]string{
		"EPOM_DATABASE_URL": {"epom-db-app", "uri"}, "EPOM_PLATFORM_DATABASE_URL": {"epom-db-platform", "uri"},
		"EPOM_REDIS_URL": {"epom-redis", "url"}, "EPOM_SMTP_URL": {"epom-env", "EPOM_SMTP_URL"},
		"EPOM_SECRET_KEY": {"epom-secret-key", "key"},
	} {
		e := envVar(web, name)
		if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
			e.ValueFrom.SecretKeyRef.Name != ref[0] || e.ValueFrom.SecretKeyRef.Key != ref[1] {
			t.Errorf("web %s = %+v, want secret %s key %s", name, e, ref[0], ref[1])
		}
	}
	if _, ok := r.find("Secret", "epom-migrate"); ok {
		t.Error("an owner Secret is rendered although database.owner.existingSecret is set")
	}
	if _, ok := r.must(t, "Secret", "epom-env").value.(*corev1.Secret).StringData["EPOM_SECRET_KEY"]; ok {
		t.Error("the chart's Secret holds EPOM_SECRET_KEY although secretKey.existingSecret is set")
	}
	if got := r.must(t, "ConfigMap", "epom").value.(*corev1.ConfigMap).Data["EPOM_SIGNIN_IP_MAX"]; got != "50" {
		t.Errorf("EPOM_SIGNIN_IP_MAX = %q, want config.signIn.ipMax 50", got)
	}
	job := r.must(t, "Job", "epom-migrate").value.(*batchv1.Job)
	if ref := envVar(container(job.Spec.Template.Spec), "EPOM_OWNER_DATABASE_URL").ValueFrom.SecretKeyRef; ref.Name != "epom-db-owner" || ref.Key != "uri" {
		t.Errorf("migration owner DSN from %s/%s, want epom-db-owner/uri", ref.Name, ref.Key)
	}

	ing := r.must(t, "Ingress", "epom").value.(*networkingv1.Ingress)
	var hosts, tls []string
	for _, rule := range ing.Spec.Rules {
		hosts = append(hosts, rule.Host)
	}
	for _, t := range ing.Spec.TLS {
		tls = append(tls, strings.Join(t.Hosts, " ")+"="+t.SecretName)
	}
	if want := []string{"epom.example.cz", "epom.kunzak.cz", "urad.bily-potok.cz"}; !slices.Equal(hosts, want) {
		t.Errorf("ingress hosts %v, want %v", hosts, want)
	}
	if want := []string{"epom.example.cz=epom-tls", "epom.kunzak.cz=epom-tls-epom-kunzak-cz", "urad.bily-potok.cz=bily-potok-tls"}; !slices.Equal(tls, want) {
		t.Errorf("ingress TLS %v, want %v (one certificate per host)", tls, want)
	}

	spread := deployment(t, r, "web").Spec.Template.Spec.TopologySpreadConstraints
	if len(spread) != 1 || spread[0].LabelSelector == nil || spread[0].LabelSelector.MatchLabels["app.kubernetes.io/component"] != "web" {
		t.Errorf("web topology spread %+v: want the chart to fill in the web pods' selector", spread)
	}

	for _, want := range []string{"ghcr.io/epom-cz/epom:1.4.2@sha256:", "https://epom.example.cz\n", "Tenant hosts epom.kunzak.cz urad.bily-potok.cz\n"} {
		if !strings.Contains(r.notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, r.notes)
		}
	}

	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		r.must(t, kind, "epom")
	}
	if o := r.must(t, "ConfigMap", "epom-dashboard"); o.meta.Namespace != "monitoring" || o.meta.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap in %q with labels %v", o.meta.Namespace, o.meta.Labels)
	}
}

// TestFeaturesOff renders with the optional parts switched off: still valid, and each part
// is really gone.
func TestFeaturesOff(t *testing.T) {
	r := mustRender(t, renderOpts{files: []string{"ci/default-values.yaml"}, set: []string{
		"ingress.enabled=false", "networkPolicy.enabled=false", "scheduler.enabled=false",
		"migrations.enabled=false", "serviceAccount.create=false", "database.owner.url=",
		"web.podDisruptionBudget.enabled=false", "worker.podDisruptionBudget.enabled=false",
	}, setJSON: []string{"config.trustedProxies=[]"}}) // no Ingress: nothing to trust by default
	checkInvariants(t, r)
	// The metrics Service stays: a Prometheus without the Operator scrapes its endpoints.
	want := "ConfigMap/epom, Deployment/epom-web, Deployment/epom-worker, Secret/epom-env, Service/epom, Service/epom-metrics"
	if got := r.inventory(); got != want {
		t.Errorf("objects:\n got %s\nwant %s", got, want)
	}
	if sa := deployment(t, r, "web").Spec.Template.Spec.ServiceAccountName; sa != "default" {
		t.Errorf("service account %q, want default", sa)
	}
	if v, ok := r.must(t, "ConfigMap", "epom").value.(*corev1.ConfigMap).Data["EPOM_TRUSTED_PROXIES"]; ok {
		t.Errorf("EPOM_TRUSTED_PROXIES = %q although config.trustedProxies is empty", v)
	}
	// Without an Ingress there is no TLS to assume: the base URL says what the user set.
	r = mustRender(t, renderOpts{files: []string{"ci/default-values.yaml"}, set: []string{"ingress.tls.enabled=false"}})
	if got := r.must(t, "ConfigMap", "epom").value.(*corev1.ConfigMap).Data["EPOM_BASE_URL"]; got != "http://epom.example.cz" {
		t.Errorf("EPOM_BASE_URL without TLS = %q", got)
	}
}

// TestChecksumsRollPods: a change of configuration or of a chart-made Secret changes the pod
// templates of every Deployment (so they roll); a change of something else does not.
func TestChecksumsRollPods(t *testing.T) {
	base := mustRender(t, defaults)
	sums := func(r rendered, key string) []string {
		var out []string
		for _, c := range []string{"web", "worker", "scheduler"} {
			out = append(out, deployment(t, r, c).Spec.Template.Annotations[key])
		}
		return out
	}
	for _, tc := range []struct {
		set            string
		config, secret bool
	}{
		{"config.logLevel=debug", true, false},
		{"config.tenantCacheTTL=1m", true, false},
		{"redis.url=redis://:other@redis.example.cz:6379/0", false, true},
		{"secretKey.value=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false, true},
		{"config.signIn.ipMax=30", true, false},
		{"web.replicas=3", false, false},
	} {
		r := mustRender(t, renderOpts{files: defaults.files, set: []string{tc.set}})
		for key, want := range map[string]bool{"checksum/config": tc.config, "checksum/secret": tc.secret} {
			before, after := sums(base, key), sums(r, key)
			for i := range before {
				if before[i] == "" {
					t.Fatalf("%s missing", key)
				}
				if changed := before[i] != after[i]; changed != want {
					t.Errorf("--set %s: %s changed=%v, want %v", tc.set, key, changed, want)
				}
			}
		}
	}
}

// TestLargeNumbersFromFiles: numbers from a values file reach the templates as float64,
// which Go prints as 2.592e+06 from a million on; Kubernetes wants integers there.
func TestLargeNumbersFromFiles(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big-values.yaml")
	const values = `
revisionHistoryLimit: 1000000
web:
  terminationGracePeriodSeconds: 1000000
  autoscaling: {enabled: true, minReplicas: 1000000, maxReplicas: 2000000}
  podDisruptionBudget: {maxUnavailable: "", minAvailable: 1000000}
worker:
  replicas: 1000000
scheduler:
  terminationGracePeriodSeconds: 1000000
migrations:
  activeDeadlineSeconds: 1000000
  ttlSecondsAfterFinished: 2592000
`
	if err := os.WriteFile(big, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustRender(t, renderOpts{files: []string{"ci/default-values.yaml", big}})
	if got := *r.must(t, "Job", "epom-migrate").value.(*batchv1.Job).Spec.TTLSecondsAfterFinished; got != 2592000 {
		t.Errorf("ttlSecondsAfterFinished = %d", got)
	}
	if got := *deployment(t, r, "worker").Spec.Replicas; got != 1000000 {
		t.Errorf("worker replicas = %d", got)
	}
	if got := r.must(t, "PodDisruptionBudget", "epom-web").value.(*policyv1.PodDisruptionBudget).Spec.MinAvailable.IntValue(); got != 1000000 {
		t.Errorf("web minAvailable = %d", got)
	}
}

// checkInvariants holds for every rendering, whatever the values.
func checkInvariants(t *testing.T, r rendered) {
	t.Helper()
	for _, o := range r.objects {
		checkMeta(t, o)
	}
	checkNoCredentialsOutsideSecrets(t, r)

	args := map[string][]string{"web": {"serve"}, "worker": {"worker"}, "scheduler": {"scheduler"}}
	for _, o := range r.all("Deployment") {
		d := o.value.(*appsv1.Deployment)
		component := d.Spec.Template.Labels["app.kubernetes.io/component"]
		if want, ok := args[component]; !ok || !slices.Equal(container(d.Spec.Template.Spec).Args, want) {
			t.Errorf("Deployment %s (component %q) runs %v", d.Name, component, container(d.Spec.Template.Spec).Args)
		}
		checkSelector(t, "Deployment "+d.Name, d.Spec.Selector, d.Spec.Template.Labels, true)
		checkPodSpec(t, "Deployment "+d.Name, d.Spec.Template.ObjectMeta, d.Spec.Template.Spec)
		checkRuntimeEnv(t, r, d)
		checkOpsListener(t, d)
		for _, key := range []string{"checksum/config", "checksum/secret"} {
			if len(d.Spec.Template.Annotations[key]) != 64 {
				t.Errorf("Deployment %s: pod annotation %s = %q, want a sha256", d.Name, key, d.Spec.Template.Annotations[key])
			}
		}
		switch component {
		case "scheduler":
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
				t.Errorf("scheduler replicas = %v, want exactly 1", d.Spec.Replicas)
			}
			if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("scheduler strategy %q, want Recreate", d.Spec.Strategy.Type)
			}
		case "web":
			checkWebProbes(t, d)
		}
	}
	checkMigrationJob(t, r)
	checkWiring(t, r)
}

// checkMeta: names Kubernetes accepts, and the standard labels on everything.
func checkMeta(t *testing.T, o object) {
	t.Helper()
	for _, msg := range validation.IsDNS1123Subdomain(o.name) {
		t.Errorf("%s %q: %s", o.kind, o.name, msg)
	}
	if o.kind == "Service" || o.kind == "Deployment" {
		for _, msg := range validation.IsDNS1035Label(o.name) {
			t.Errorf("%s %q: %s", o.kind, o.name, msg)
		}
	}
	for k, v := range o.meta.Labels {
		for _, msg := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
			t.Errorf("%s %s label %s=%s: %s", o.kind, o.name, k, v, msg)
		}
	}
	for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"} {
		if o.meta.Labels[k] == "" {
			t.Errorf("%s %s has no label %s", o.kind, o.name, k)
		}
	}
}

// checkNoCredentialsOutsideSecrets: no ConfigMap key names a credential, and no password
// given as a value appears anywhere but in a Secret.
func checkNoCredentialsOutsideSecrets(t *testing.T, r rendered) {
	t.Helper()
	for _, o := range r.objects {
		if o.kind == "Secret" {
			continue
		}
		for _, pw := range ciPasswords {
			if bytes.Contains(o.json, []byte(pw)) {
				t.Errorf("%s %s (%s) contains the credential %q", o.kind, o.name, o.source, pw)
			}
		}
		if o.kind != "ConfigMap" {
			continue
		}
		for k, v := range o.value.(*corev1.ConfigMap).Data {
			if strings.HasSuffix(k, "_URL") && k != "EPOM_BASE_URL" {
				t.Errorf("ConfigMap %s holds %s, a credential", o.name, k)
			}
			for _, scheme := range []string{"postgres://", "postgresql://", "redis://", "rediss://", "smtp://", "smtps://"} {
				if strings.Contains(v, scheme) {
					t.Errorf("ConfigMap %s key %s holds a %s URL", o.name, k, scheme)
				}
			}
		}
	}
}

// restricted evaluates the "restricted" Pod Security Standard, as the admission controller
// of a namespace labelled pod-security.kubernetes.io/enforce=restricted would.
var restricted = func() func(*metav1.ObjectMeta, *corev1.PodSpec) []policy.CheckResult {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	lv := psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}
	return func(m *metav1.ObjectMeta, s *corev1.PodSpec) []policy.CheckResult { return ev.EvaluatePod(lv, m, s) }
}()

// checkPodSpec: the pod security and resource settings the chart promises.
func checkPodSpec(t *testing.T, what string, meta metav1.ObjectMeta, spec corev1.PodSpec) {
	t.Helper()
	for _, res := range restricted(&meta, &spec) {
		if !res.Allowed {
			t.Errorf("%s violates the restricted Pod Security Standard: %s: %s", what, res.ForbiddenReason, res.ForbiddenDetail)
		}
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("%s: service links on: a Service named epom would inject EPOM_SERVICE_HOST, EPOM_PORT… into the configuration's namespace", what)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod securityContext %+v, want runAsNonRoot and a non-zero runAsUser", what, psc)
	} else if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccomp profile %+v, want RuntimeDefault", what, psc.SeccompProfile)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token", what)
	}
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("%s: want exactly one container", what)
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Errorf("%s: container has no securityContext", what)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: root filesystem is writable", what)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: privilege escalation allowed", what)
	case sc.Privileged != nil && *sc.Privileged:
		t.Errorf("%s: privileged", what)
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: capabilities %+v, want drop ALL and add none", what, sc.Capabilities)
	}
	tmp := false
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/tmp" {
			for _, v := range spec.Volumes {
				tmp = tmp || (v.Name == m.Name && v.EmptyDir != nil)
			}
		}
	}
	if !tmp {
		t.Errorf("%s: no emptyDir at /tmp", what)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: resources %+v, want cpu and memory requests and a memory limit", what, c.Resources)
	}
	if !strings.HasPrefix(c.Image, "ghcr.io/epom-cz/epom:") {
		t.Errorf("%s: image %q", what, c.Image)
	}
}

// checkRuntimeEnv: serve, worker and scheduler get the app and platform DSNs, Redis and the
// secret key from Secrets, the configuration from the ConfigMap, and never the owner DSN.
func checkRuntimeEnv(t *testing.T, r rendered, d *appsv1.Deployment) {
	t.Helper()
	c := container(d.Spec.Template.Spec)
	for _, name := range []string{"EPOM_DATABASE_URL", "EPOM_PLATFORM_DATABASE_URL", "EPOM_REDIS_URL", "EPOM_SECRET_KEY"} {
		e := envVar(c, name)
		if e == nil || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("Deployment %s: %s is not read from a Secret: %+v", d.Name, name, e)
		}
	}
	if e := envVar(c, "EPOM_OWNER_DATABASE_URL"); e != nil {
		t.Errorf("Deployment %s has the owner DSN", d.Name)
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			t.Errorf("Deployment %s takes a whole Secret (%s) into its environment", d.Name, ef.SecretRef.Name)
		}
		if ef.ConfigMapRef != nil {
			r.must(t, "ConfigMap", ef.ConfigMapRef.Name)
		}
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil {
		t.Errorf("Deployment %s: envFrom %+v, want the ConfigMap", d.Name, c.EnvFrom)
	}
	// A Secret the chart makes must hold the key the pod asks for.
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if o, ok := r.find("Secret", ref.Name); ok {
			s := o.value.(*corev1.Secret)
			if o.hook {
				t.Errorf("Deployment %s reads %s from the hook Secret %s, which is deleted after the migration", d.Name, e.Name, ref.Name)
			}
			if _, ok := s.StringData[ref.Key]; !ok {
				t.Errorf("Deployment %s reads %s from key %s of Secret %s, which has no such key", d.Name, e.Name, ref.Key, ref.Name)
			}
		}
	}
	if d.Spec.Template.Spec.ServiceAccountName != "default" {
		r.must(t, "ServiceAccount", d.Spec.Template.Spec.ServiceAccountName)
	}
}

// checkOpsListener: every process answers /livez and /metrics on its port ops, where
// EPOM_OPS_ADDR points; the web server has port http besides, on another number.
func checkOpsListener(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	c := container(d.Spec.Template.Spec)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	ops, ok := ports["ops"]
	if !ok {
		t.Errorf("Deployment %s: no container port named ops: %+v", d.Name, c.Ports)
		return
	}
	if e := envVar(c, "EPOM_OPS_ADDR"); e == nil || e.Value != fmt.Sprintf(":%d", ops) {
		t.Errorf("Deployment %s: EPOM_OPS_ADDR %+v, want :%d (port ops)", d.Name, e, ops)
	}
	want := []string{"ops"}
	if d.Spec.Template.Labels["app.kubernetes.io/component"] == "web" {
		want = []string{"http", "ops"}
		if ports["http"] == 0 || ports["http"] == ops {
			t.Errorf("Deployment %s: port http %d, port ops %d", d.Name, ports["http"], ops)
		}
	}
	if got := slices.Sorted(maps.Keys(ports)); !slices.Equal(got, want) {
		t.Errorf("Deployment %s: container ports %v, want %v", d.Name, got, want)
	}
}

// checkWebProbes: liveness never depends on the database (/livez), readiness does (/readyz).
func checkWebProbes(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	c := container(d.Spec.Template.Spec)
	port := ""
	for _, p := range c.Ports {
		if p.Name == "http" {
			port = p.Name
		}
	}
	if port == "" {
		t.Fatalf("web container has no port named http: %+v", c.Ports)
	}
	for name, tc := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{
		"startup": {c.StartupProbe, "/livez"}, "liveness": {c.LivenessProbe, "/livez"}, "readiness": {c.ReadinessProbe, "/readyz"},
	} {
		if tc.probe == nil || tc.probe.HTTPGet == nil {
			t.Errorf("web %s probe missing: %+v", name, tc.probe)
			continue
		}
		if tc.probe.HTTPGet.Path != tc.path || tc.probe.HTTPGet.Port.String() != port {
			t.Errorf("web %s probe asks %s on %s, want %s on %s", name, tc.probe.HTTPGet.Path, tc.probe.HTTPGet.Port.String(), tc.path, port)
		}
		if tc.probe.TimeoutSeconds < 1 || tc.probe.PeriodSeconds < 1 || tc.probe.FailureThreshold < 1 {
			t.Errorf("web %s probe timing %+v", name, tc.probe)
		}
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.TimeoutSeconds <= 3 {
		t.Errorf("readiness timeout %ds: /readyz itself waits up to 3 s for the database and Redis", c.ReadinessProbe.TimeoutSeconds)
	}
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || *grace <= 20 {
		t.Errorf("web terminationGracePeriodSeconds %v: must exceed the 20 s drain", grace)
	}
}

// checkMigrationJob: `epom migrate up` runs as a pre-install and pre-upgrade hook, with the
// owner DSN from a Secret, and with everything it needs created before it as hooks too.
func checkMigrationJob(t *testing.T, r rendered) {
	t.Helper()
	jobs := r.all("Job")
	if len(jobs) == 0 {
		return // migrations.enabled=false
	}
	if len(jobs) != 1 {
		t.Fatalf("%d Jobs rendered, want one", len(jobs))
	}
	o := jobs[0]
	job := o.value.(*batchv1.Job)
	if !o.hook || o.meta.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Errorf("Job %s is not a pre-install,pre-upgrade hook: %v", job.Name, o.meta.Annotations)
	}
	spec := job.Spec.Template.Spec
	checkPodSpec(t, "Job "+job.Name, job.Spec.Template.ObjectMeta, spec)
	c := container(spec)
	if !slices.Equal(c.Args, []string{"migrate", "up"}) {
		t.Errorf("Job runs %v, want migrate up", c.Args)
	}
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("Job restartPolicy %q", spec.RestartPolicy)
	}
	owner := envVar(c, "EPOM_OWNER_DATABASE_URL")
	if owner == nil || owner.ValueFrom == nil || owner.ValueFrom.SecretKeyRef == nil {
		t.Fatalf("Job has no owner DSN from a Secret: %+v", owner)
	}
	for _, name := range []string{"EPOM_DATABASE_URL", "EPOM_PLATFORM_DATABASE_URL", "EPOM_REDIS_URL", "EPOM_SECRET_KEY"} {
		if envVar(c, name) != nil {
			t.Errorf("the migration Job gets %s, which `migrate up` does not use", name)
		}
	}
	if len(c.EnvFrom) != 0 {
		t.Errorf("the migration Job reads envFrom %+v, which does not exist before the first install", c.EnvFrom)
	}
	// What the Job uses must exist when it starts: as a hook of lower weight, or (a Secret
	// managed elsewhere) outside the chart. A regular release object would not exist yet.
	weight := func(o object) string { return o.meta.Annotations["helm.sh/hook-weight"] }
	if s, ok := r.find("Secret", owner.ValueFrom.SecretKeyRef.Name); ok {
		if !s.hook || weight(s) >= weight(o) || !strings.Contains(s.meta.Annotations["helm.sh/hook"], "pre-install") {
			t.Errorf("the owner Secret %s is not a hook created before the Job: %v", s.name, s.meta.Annotations)
		}
		if _, ok := s.value.(*corev1.Secret).StringData[owner.ValueFrom.SecretKeyRef.Key]; !ok {
			t.Errorf("the owner Secret has no key %s", owner.ValueFrom.SecretKeyRef.Key)
		}
	}
	sa := r.must(t, "ServiceAccount", spec.ServiceAccountName)
	if !sa.hook || weight(sa) >= weight(o) {
		t.Errorf("the Job's ServiceAccount %s is not a hook created before it: %v", sa.name, sa.meta.Annotations)
	}
}

// checkWiring: every selector selects the pods it is meant for, every reference resolves.
func checkWiring(t *testing.T, r rendered) {
	t.Helper()
	pods := map[string]map[string]string{} // component → pod labels
	for _, o := range r.all("Deployment") {
		d := o.value.(*appsv1.Deployment)
		pods[d.Spec.Template.Labels["app.kubernetes.io/component"]] = d.Spec.Template.Labels
	}
	for _, o := range r.all("Service") {
		s := o.value.(*corev1.Service)
		sel := labels.SelectorFromSet(s.Spec.Selector)
		for c, l := range pods {
			if sel.Matches(labels.Set(l)) != (c == "web") {
				t.Errorf("Service %s selects %s pods: %v", s.Name, c, sel.Matches(labels.Set(l)))
			}
		}
		// The web Service has port http, for the Ingress (and of type LoadBalancer or NodePort
		// public); port ops, with /metrics, is only on the ClusterIP Service -metrics.
		want := []string{"http"}
		if s.Name == releaseName+"-metrics" {
			want = []string{"ops"}
			if s.Spec.Type != corev1.ServiceTypeClusterIP {
				t.Errorf("Service %s is of type %s, want ClusterIP", s.Name, s.Spec.Type)
			}
		}
		var names []string
		for _, p := range s.Spec.Ports {
			names = append(names, p.Name)
			if p.TargetPort.String() != p.Name {
				t.Errorf("Service %s: port %s targets port %s", s.Name, p.Name, p.TargetPort.String())
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("Service %s has ports %v, want %v", s.Name, names, want)
		}
	}
	for _, o := range r.all("PodDisruptionBudget") {
		pdb := o.value.(*policyv1.PodDisruptionBudget)
		c := pdb.Labels["app.kubernetes.io/component"]
		checkSelector(t, "PDB "+pdb.Name, pdb.Spec.Selector, pods[c], pods[c] != nil)
		for other, l := range pods {
			if other != c {
				checkSelector(t, "PDB "+pdb.Name+" vs "+other, pdb.Spec.Selector, l, false)
			}
		}
	}
	for _, o := range r.all("HorizontalPodAutoscaler") {
		hpa := o.value.(*autoscalingv2.HorizontalPodAutoscaler)
		r.must(t, "Deployment", hpa.Spec.ScaleTargetRef.Name)
		if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas > hpa.Spec.MaxReplicas {
			t.Errorf("HPA %s min %v max %d", hpa.Name, hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
		}
	}
	for _, o := range r.all("Ingress") {
		ing := o.value.(*networkingv1.Ingress)
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				// /metrics is on port ops: the Internet must never reach it.
				if p.Backend.Service.Port.Name != "http" || p.Backend.Service.Port.Number != 0 {
					t.Errorf("Ingress %s: backend %+v, want the Service's port http by name", ing.Name, p.Backend.Service)
				}
				svc := r.must(t, "Service", p.Backend.Service.Name).value.(*corev1.Service)
				if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == p.Backend.Service.Port.Name }) {
					t.Errorf("Ingress %s: Service %s has no port %q", ing.Name, svc.Name, p.Backend.Service.Port.Name)
				}
			}
		}
	}
	for _, o := range r.all("NetworkPolicy") {
		np := o.value.(*networkingv1.NetworkPolicy)
		web := np.Name == releaseName+"-web"
		ops := np.Name == releaseName+"-ops" // the scraper to port ops of every process
		for c, l := range pods {
			want := c == "web" || (ops && (c == "worker" || c == "scheduler"))
			if !web && !ops {
				want = true
			}
			checkSelector(t, "NetworkPolicy "+np.Name+" vs "+c, &np.Spec.PodSelector, l, want)
		}
		// The ingress controller reaches port http only, the scraper port ops only.
		port := "http"
		if ops {
			port = "ops"
		}
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) == 0 {
				t.Errorf("NetworkPolicy %s admits every source", np.Name)
			}
			if len(rule.Ports) != 1 || rule.Ports[0].Port == nil || rule.Ports[0].Port.String() != port {
				t.Errorf("NetworkPolicy %s admits ports %+v, want only %s", np.Name, rule.Ports, port)
			}
		}
		if !web && !ops {
			if len(np.Spec.Ingress) != 0 || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
				t.Errorf("NetworkPolicy %s: want no ingress and egress rules", np.Name)
			}
			if job, ok := r.find("Job", releaseName+"-migrate"); ok {
				checkSelector(t, "NetworkPolicy "+np.Name+" vs migrate", &np.Spec.PodSelector, job.value.(*batchv1.Job).Spec.Template.Labels, true)
			}
		}
	}
}

func checkSelector(t *testing.T, what string, ls *metav1.LabelSelector, podLabels map[string]string, want bool) {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		t.Errorf("%s: selector: %v", what, err)
		return
	}
	if sel.Empty() {
		t.Errorf("%s: empty selector selects everything", what)
	}
	if got := sel.Matches(labels.Set(podLabels)); got != want {
		t.Errorf("%s: selector %s matches pod labels %v: %v, want %v", what, sel, podLabels, got, want)
	}
}

func container(spec corev1.PodSpec) corev1.Container {
	if len(spec.Containers) == 0 {
		return corev1.Container{}
	}
	return spec.Containers[0]
}

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}
