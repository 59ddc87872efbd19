{{- define "qsplit.namespace" -}}{{ .Values.operator.watchNamespace | default .Release.Namespace }}{{- end -}}
{{- /* "true" when Google Cloud Pub/Sub splitting is on, by either of its names. */ -}}
{{- define "qsplit.pubsub" -}}{{ if or .Values.operator.gcpPubsubSplitting .Values.operator.pubsubSplitting }}true{{ end }}{{- end -}}
{{- /* "true" when a broker whose connections are property lists is on: the CRDs and the rights they need. */ -}}
{{- define "qsplit.listBrokers" -}}
{{ if or .Values.operator.redisSplitting .Values.operator.redisPubsubSplitting .Values.operator.bullmqSplitting (include "qsplit.pubsub" .) }}true{{ end }}
{{- end -}}
{{- define "qsplit.labels" -}}
app.kubernetes.io/name: qsplit
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
