{{/*
The prefix of every object name: "orkestra" unless fullnameOverride (not the release name,
so the names match what `ork generate bundle` and the docs use).
*/}}
{{- define "orkestra.fullname" -}}
{{- .Values.fullnameOverride | default .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of every object, after Helm's conventions. Argument: (dict "root" $ "component" NAME).
*/}}
{{- define "orkestra.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "orkestra.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: orkestra
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/*
The labels that select one component's pods (fixed for the life of a Deployment).
Argument: (dict "root" $ "component" NAME).
*/}}
{{- define "orkestra.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
An image reference from {repository, tag, digest}: by digest when one is given, else by tag
(default: the chart's appVersion). Argument: (dict "image" IMAGE "root" $).
*/}}
{{- define "orkestra.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The gateway's image: gateway.image when it names a repository, else the runtime's. */}}
{{- define "orkestra.gatewayImage" -}}
{{- $image := .Values.runtime.image -}}
{{- if .Values.gateway.image.repository -}}
{{- $image = .Values.gateway.image -}}
{{- end -}}
{{- include "orkestra.image" (dict "image" $image "root" .) -}}
{{- end -}}

{{/* The path of the katalog file inside both containers. */}}
{{- define "orkestra.katalogPath" -}}
{{- printf "%s/%s" (.Values.runtime.katalog.mountPath | trimSuffix "/") .Values.runtime.katalog.configMapKey -}}
{{- end -}}

{{/* The ConfigMap holding the katalog: the chart's own with inline, else the existing one. */}}
{{- define "orkestra.katalogConfigMap" -}}
{{- if .Values.runtime.katalog.inline -}}
{{- include "orkestra.fullname" . }}-runtime-katalog
{{- else -}}
{{- .Values.runtime.katalog.existingConfigMap -}}
{{- end -}}
{{- end -}}

{{/*
The katalog volume of a pod: only configMapKey, so a ConfigMap without it fails visibly.
*/}}
{{- define "orkestra.katalogVolume" -}}
- name: katalog
  configMap:
    name: {{ include "orkestra.katalogConfigMap" . }}
    items:
      - key: {{ .Values.runtime.katalog.configMapKey }}
        path: {{ .Values.runtime.katalog.configMapKey }}
{{- end -}}

{{/*
An httpGet probe. Argument: (dict "path" PATH "timing" {initialDelaySeconds, ...}).
*/}}
{{- define "orkestra.probe" -}}
httpGet:
  path: {{ .path }}
  port: http
{{ toYaml .timing }}
{{- end -}}

{{/*
A PodDisruptionBudget for one component, when its podDisruptionBudget.enabled.
Argument: (dict "root" $ "component" NAME "values" COMPONENT-VALUES).
*/}}
{{- define "orkestra.pdb" -}}
{{- $pdb := .values.podDisruptionBudget -}}
{{- if $pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "orkestra.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "orkestra.labels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" $pdb.minAvailable) }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "orkestra.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/* "true" when the runtime elects a leader: more than one replica, or asked to. */}}
{{- define "orkestra.leaderElect" -}}
{{- if or (gt (int .Values.runtime.replicaCount) 1) .Values.runtime.leaderElection.enabled -}}
true
{{- end -}}
{{- end -}}
