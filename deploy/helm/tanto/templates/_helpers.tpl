{{/* The release's engine name. */}}
{{- define "tanto.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the engine's pods. */}}
{{- define "tanto.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tanto.labels" -}}
{{ include "tanto.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The port of engine.debugaddr ("HOST:PORT"). */}}
{{- define "tanto.debugPort" -}}
{{- $parts := splitList ":" .Values.engine.debugaddr -}}
{{- last $parts | int -}}
{{- end -}}
