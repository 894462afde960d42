{{/*
Names. The fullname is the release name, or release-chart when the release name does not
already contain the chart name; it is cut to 52 characters so that every suffix the chart
adds ("-scheduler", "-migrate", "-tls-…") still fits the 63-character limit of labels and
DNS names.
*/}}
{{- define "epom.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "epom.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The port the web server listens on in the container (the image's EXPOSE). */}}
{{- define "epom.httpPort" -}}8080{{- end -}}

{{/*
The ops listener of every process (EPOM_OPS_ADDR): /livez and /metrics, never routed by the
Ingress.
*/}}
{{- define "epom.opsPort" -}}9090{{- end -}}

{{/*
Numbers from values files arrive as float64, which prints as 2.592e+06 from a million on;
every number is printed through int64. A PDB bound may also be a percentage string.
*/}}
{{- define "epom.intOrString" -}}
{{- if kindIs "string" . -}}{{ . | quote }}{{- else -}}{{ . | int64 }}{{- end -}}
{{- end -}}

{{/* "true" when a value that may be a number or a string is given (not null, not ""). */}}
{{- define "epom.isSet" -}}
{{- if not (or (kindIs "invalid" .) (eq (toString .) "")) -}}true{{- end -}}
{{- end -}}

{{- define "epom.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of the whole release; components add app.kubernetes.io/component. */}}
{{- define "epom.selectorLabels" -}}
app.kubernetes.io/name: {{ include "epom.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "epom.labels" -}}
helm.sh/chart: {{ include "epom.chart" . }}
{{ include "epom.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: epom
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component: (dict "root" $ "component" "web"). */}}
{{- define "epom.componentLabels" -}}
{{ include "epom.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "epom.componentSelectorLabels" -}}
{{ include "epom.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "epom.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "epom.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "epom.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The public URL: config.baseURL, or https://host (http:// when the Ingress has no TLS). */}}
{{- define "epom.baseURL" -}}
{{- if .Values.config.baseURL -}}
{{- .Values.config.baseURL | trimSuffix "/" -}}
{{- else if and .Values.ingress.enabled (not .Values.ingress.tls.enabled) -}}
{{- printf "http://%s" .Values.host -}}
{{- else -}}
{{- printf "https://%s" .Values.host -}}
{{- end -}}
{{- end -}}

{{/* The Secret the chart makes for the run-time credentials (app, platform, Redis, SMTP, secret key). */}}
{{- define "epom.secretName" -}}
{{- printf "%s-env" (include "epom.fullname" .) -}}
{{- end -}}

{{/* The hook Secret holding the owner DSN for the duration of the migration. */}}
{{- define "epom.ownerSecretName" -}}
{{- printf "%s-migrate" (include "epom.fullname" .) -}}
{{- end -}}

{{/*
A credential is { url, existingSecret, existingSecretKey }: exactly one of url (the chart
puts it into its Secret) and existingSecret (a Secret managed elsewhere) is set. The URL is
never echoed in a message, since it holds a password.
Call: (dict "cred" .Values.database.app "path" "database.app" "schemes" (list "postgres" "postgresql") "required" true)
*/}}
{{- define "epom.validateCredential" -}}
{{- $c := .cred -}}
{{- if and $c.url $c.existingSecret -}}
{{- fail (printf "%s: set either url (the chart creates a Secret) or existingSecret (a Secret you manage), not both" .path) -}}
{{- end -}}
{{- if and .required (not $c.url) (not $c.existingSecret) -}}
{{- fail (printf "%s: set url (the chart creates a Secret) or existingSecret with existingSecretKey (a Secret you manage)" .path) -}}
{{- end -}}
{{- if $c.url -}}
{{- $scheme := regexFind "^[a-z]+://" $c.url | trimSuffix "://" -}}
{{- if not (has $scheme .schemes) -}}
{{- fail (printf "%s.url: want a %s:// URL (the value is not shown because it may hold a password)" .path (join ":// or " .schemes)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
An env var from a credential: from existingSecret when given, else from the chart's Secret,
where the key is the variable's name. Call: (dict "name" "EPOM_DATABASE_URL" "cred" … "secret" "<chart Secret>")
*/}}
{{- define "epom.credentialEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      {{- if .cred.existingSecret }}
      name: {{ .cred.existingSecret }}
      key: {{ .cred.existingSecretKey }}
      {{- else }}
      name: {{ .secret }}
      key: {{ .name }}
      {{- end }}
{{- end -}}

{{/*
secretKey is { value, existingSecret, existingSecretKey } and required. A given value must be
what `epom serve` accepts, the standard base64 of exactly 32 bytes (44 characters ending in
one "="), so a wrong one fails the release here rather than crash-looping the web pods. Like
the URLs, the value is never echoed in a message.
*/}}
{{- define "epom.validateSecretKey" -}}
{{- $k := .Values.secretKey -}}
{{- $how := "generate one with `openssl rand -base64 32`" -}}
{{- if and $k.value $k.existingSecret -}}
{{- fail "secretKey: set either value (the chart creates a Secret) or existingSecret (a Secret you manage), not both" -}}
{{- end -}}
{{- if and (not $k.value) (not $k.existingSecret) -}}
{{- fail (printf "secretKey: required (EPOM_SECRET_KEY encrypts the users' TOTP secrets; epom serve refuses to start without it): set value or existingSecret with existingSecretKey; %s and keep it with the database backups" $how) -}}
{{- end -}}
{{- /* The chart's README once said to pass the key through web.extraEnv: a second
EPOM_SECRET_KEY there would silently win over this one. */ -}}
{{- range $path, $env := dict "extraEnv" .Values.extraEnv "web.extraEnv" .Values.web.extraEnv "worker.extraEnv" .Values.worker.extraEnv "scheduler.extraEnv" .Values.scheduler.extraEnv -}}
{{- range $env -}}
{{- if eq .name "EPOM_SECRET_KEY" -}}
{{- fail (printf "%s: remove EPOM_SECRET_KEY; give it as secretKey.existingSecret (with existingSecretKey) or secretKey.value" $path) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $k.value -}}
{{- $val := trim $k.value -}}
{{- /* b64dec answers an error text instead of failing on bad input, hence the pattern too. */ -}}
{{- if or (not (regexMatch "^[A-Za-z0-9+/]{43}=$" $val)) (ne (len (b64dec $val)) 32) -}}
{{- fail (printf "secretKey.value: want the base64 of exactly 32 bytes (44 characters ending in =); %s (the value is not shown because it is a secret)" $how) -}}
{{- end -}}
{{- end -}}
{{- include "epom.validateSecretKeyPrevious" . -}}
{{- end -}}

{{/*
secretKeyPrevious holds the keys secretKey replaced (EPOM_SECRET_KEY_PREVIOUS), in the same
Secret as secretKey: value goes into the chart's Secret next to secretKey.value; with
secretKey.existingSecret, existingSecretKey names their key in that Secret. Each key must be
what `epom serve` accepts and none may be the current key; no key is ever echoed.
*/}}
{{- define "epom.validateSecretKeyPrevious" -}}
{{- $k := .Values.secretKey -}}
{{- $p := .Values.secretKeyPrevious -}}
{{- if and $p.value $k.existingSecret -}}
{{- fail "secretKeyPrevious.value: secretKey comes from secretKey.existingSecret; put the previous keys into that Secret and name their key in secretKeyPrevious.existingSecretKey" -}}
{{- end -}}
{{- if and $p.existingSecretKey (not $k.existingSecret) -}}
{{- fail "secretKeyPrevious.existingSecretKey: only with secretKey.existingSecret (the previous keys live in the same Secret); with secretKey.value give them as secretKeyPrevious.value" -}}
{{- end -}}
{{- if $p.value -}}
{{- range $i, $key := splitList "," (trim $p.value) -}}
{{- $key = trim $key -}}
{{- if or (not (regexMatch "^[A-Za-z0-9+/]{43}=$" $key)) (ne (len (b64dec $key)) 32) -}}
{{- fail (printf "secretKeyPrevious.value: key %d: want the base64 of exactly 32 bytes (44 characters ending in =), keys separated by commas (the value is not shown because it is a secret)" (add1 $i)) -}}
{{- end -}}
{{- if eq $key (trim $k.value) -}}
{{- fail (printf "secretKeyPrevious.value: key %d is secretKey.value; list only the keys it replaced" (add1 $i)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Checks across values that a JSON schema cannot express readably. The templates that always
render include it, so `helm template` fails with these messages whatever else is switched off.
*/}}
{{- define "epom.validate" -}}
{{- $v := .Values -}}
{{- include "epom.validateCredential" (dict "cred" $v.database.app "path" "database.app" "schemes" (list "postgres" "postgresql") "required" true) -}}
{{- include "epom.validateCredential" (dict "cred" $v.database.platform "path" "database.platform" "schemes" (list "postgres" "postgresql") "required" true) -}}
{{- include "epom.validateCredential" (dict "cred" $v.database.owner "path" "database.owner" "schemes" (list "postgres" "postgresql") "required" $v.migrations.enabled) -}}
{{- include "epom.validateCredential" (dict "cred" $v.redis "path" "redis" "schemes" (list "redis" "rediss") "required" true) -}}
{{- include "epom.validateCredential" (dict "cred" $v.smtp "path" "smtp" "schemes" (list "smtp" "smtps") "required" false) -}}
{{- include "epom.validateSecretKey" . -}}
{{- if and $v.ingress.enabled (not $v.config.trustedProxies) -}}
{{- fail "config.trustedProxies: set the ingress controller's pod network (e.g. [10.244.0.0/16]): the limits on failed sign-ins and account e-mails count per client address, and without it every client looks like the controller, so a few failures would block sign-in for everyone" -}}
{{- end -}}
{{- range $c := list "web" "worker" -}}
{{- $p := index $v $c -}}
{{- if and $p.autoscaling.enabled (gt (int $p.autoscaling.minReplicas) (int $p.autoscaling.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling: minReplicas (%d) is greater than maxReplicas (%d)" $c (int $p.autoscaling.minReplicas) (int $p.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and $p.podDisruptionBudget.enabled (include "epom.isSet" $p.podDisruptionBudget.minAvailable) (include "epom.isSet" $p.podDisruptionBudget.maxUnavailable) -}}
{{- fail (printf "%s.podDisruptionBudget: set minAvailable or maxUnavailable, not both (set the other to \"\")" $c) -}}
{{- end -}}
{{- if and $p.podDisruptionBudget.enabled (not (include "epom.isSet" $p.podDisruptionBudget.minAvailable)) (not (include "epom.isSet" $p.podDisruptionBudget.maxUnavailable)) -}}
{{- fail (printf "%s.podDisruptionBudget: set minAvailable or maxUnavailable (or enabled: false)" $c) -}}
{{- end -}}
{{- end -}}
{{- range $c := list "web" "worker" "scheduler" -}}
{{- $p := index $v $c -}}
{{- $need := add (int $v.config.shutdownTimeoutSeconds) (int (default 0 $p.preStopSleepSeconds)) -}}
{{- if le (int $p.terminationGracePeriodSeconds) $need -}}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must exceed config.shutdownTimeoutSeconds plus the preStop sleep (%d), or Kubernetes kills the process before it has drained" $c (int $p.terminationGracePeriodSeconds) $need) -}}
{{- end -}}
{{- end -}}
{{- $hosts := list $v.host -}}
{{- range $v.ingress.tenantHosts -}}
{{- if eq .host $v.host -}}
{{- fail (printf "ingress.tenantHosts: %s is the base host; list only the tenants' own domains" .host) -}}
{{- end -}}
{{- if has .host $hosts -}}
{{- fail (printf "ingress.tenantHosts: %s is listed twice" .host) -}}
{{- end -}}
{{- $hosts = append $hosts .host -}}
{{- end -}}
{{- end -}}

{{/*
The environment of every epom container: configuration from the ConfigMap, run-time
credentials from Secrets by key (never envFrom a Secret, so the owner DSN cannot leak into a
long-running pod even when it shares a Secret with the others).
Call: (dict "root" $ "extraEnv" .Values.web.extraEnv)
*/}}
{{- define "epom.runtimeEnv" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $secret := include "epom.secretName" $root -}}
{{ include "epom.credentialEnv" (dict "name" "EPOM_DATABASE_URL" "cred" $v.database.app "secret" $secret) }}
{{ include "epom.credentialEnv" (dict "name" "EPOM_PLATFORM_DATABASE_URL" "cred" $v.database.platform "secret" $secret) }}
{{ include "epom.credentialEnv" (dict "name" "EPOM_REDIS_URL" "cred" $v.redis "secret" $secret) }}
{{- if or $v.smtp.url $v.smtp.existingSecret }}
{{ include "epom.credentialEnv" (dict "name" "EPOM_SMTP_URL" "cred" $v.smtp "secret" $secret) }}
{{- end }}
{{- /* Only serve requires it, but the worker and the scheduler build the same identity
service and may act on two-factor data, so every long-running component gets the key. */}}
{{ include "epom.credentialEnv" (dict "name" "EPOM_SECRET_KEY" "cred" $v.secretKey "secret" $secret) }}
{{- if $v.secretKeyPrevious.value }}
{{ include "epom.credentialEnv" (dict "name" "EPOM_SECRET_KEY_PREVIOUS" "cred" (dict) "secret" $secret) }}
{{- else if $v.secretKeyPrevious.existingSecretKey }}
{{ include "epom.credentialEnv" (dict "name" "EPOM_SECRET_KEY_PREVIOUS" "cred" (dict "existingSecret" $v.secretKey.existingSecret "existingSecretKey" $v.secretKeyPrevious.existingSecretKey) "secret" $secret) }}
{{- end }}
{{- /* The Go runtime collects harder near the container's memory limit instead of being OOM-killed. */}}
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef:
      containerName: epom
      resource: limits.memory
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Pod annotations that roll the pods when their configuration changes. The checksum of the
chart's Secret covers credentials given as values; a Secret managed elsewhere is not seen
by Helm, so rotate those with `kubectl rollout restart` or a reloader.
*/}}
{{- define "epom.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}

{{/*
The pod template shared by the web, worker and scheduler Deployments.
Call: (dict "root" $ "component" "web" "values" .Values.web "args" (list "serve"))
*/}}
{{- define "epom.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $p := .values -}}
metadata:
  labels:
    {{- include "epom.componentLabels" (dict "root" $root "component" .component) | nindent 4 }}
    {{- with $p.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- include "epom.checksums" $root | nindent 4 }}
    {{- with $p.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "epom.serviceAccountName" $root }}
  # epom never calls the Kubernetes API.
  automountServiceAccountToken: false
  # Service links would put EPOM_SERVICE_HOST, EPOM_PORT… (the Service is named epom) into
  # the EPOM_ namespace of the configuration.
  enableServiceLinks: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $p.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $p.terminationGracePeriodSeconds | int64 }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  containers:
    - name: epom
      image: {{ include "epom.image" $root }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args:
        {{- toYaml .args | nindent 8 }}
      {{- /* Every process answers /livez and its own /metrics on port ops (EPOM_OPS_ADDR):
           the web server its HTTP, pool, queue and outbox figures, which would otherwise be
           on port http and so reachable through the Ingress; the worker and the scheduler
           (task durations, start delays) listen on nothing else. */}}
      ports:
        {{- if eq .component "web" }}
        - name: http
          containerPort: {{ include "epom.httpPort" $root }}
          protocol: TCP
        {{- end }}
        - name: ops
          containerPort: {{ include "epom.opsPort" $root }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "epom.fullname" $root }}
      env:
        {{- include "epom.runtimeEnv" (dict "root" $root "extraEnv" $p.extraEnv) | nindent 8 }}
        - name: EPOM_OPS_ADDR
          value: ":{{ include "epom.opsPort" $root }}"
      {{- if eq .component "web" }}
      {{- /* /livez never touches the database or Redis: an outage of either must make pods
           unready (out of the Service), not restart them all. */}}
      startupProbe:
        httpGet:
          path: /livez
          port: http
        {{- toYaml $p.startupProbe | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /livez
          port: http
        {{- toYaml $p.livenessProbe | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        {{- toYaml $p.readinessProbe | nindent 8 }}
      {{- if $p.preStopSleepSeconds }}
      lifecycle:
        # Keep serving while the endpoint removal reaches the ingress controller; the image
        # has no shell, hence the built-in sleep action rather than an exec of `sleep`.
        preStop:
          sleep:
            seconds: {{ $p.preStopSleepSeconds | int64 }}
      {{- end }}
      {{- else }}
      livenessProbe:
        httpGet:
          path: /livez
          port: ops
        periodSeconds: 20
        timeoutSeconds: 3
        failureThreshold: 3
      {{- end }}
      resources:
        {{- toYaml $p.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    # The binary writes nothing; /tmp exists for libraries that expect one.
    - name: tmp
      emptyDir:
        sizeLimit: {{ $v.tmpSizeLimit }}
  {{- with $p.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $p.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $p.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $p.topologySpreadConstraints }}
  {{- $selector := dict "matchLabels" (fromYaml (include "epom.componentSelectorLabels" (dict "root" $root "component" $.component))) }}
  {{- $constraints := list }}
  {{- range . }}
  {{- $constraints = append $constraints (merge (dict) . (dict "labelSelector" $selector)) }}
  {{- end }}
  topologySpreadConstraints:
    {{- toYaml $constraints | nindent 4 }}
  {{- end }}
{{- end -}}
