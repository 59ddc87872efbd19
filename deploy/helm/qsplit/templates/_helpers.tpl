{{- define "qsplit.namespace" -}}{{ .Values.operator.watchNamespace | default .Release.Namespace }}{{- end -}}
{{- define "qsplit.labels" -}}
app.kubernetes.io/name: qsplit
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
