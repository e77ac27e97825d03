// Package gateway turns Alertmanager webhooks and Kubernetes Warning events into
// RemediationRequests in the system namespace, with duplicate detection that holds when many
// identical signals arrive at once, at one replica or spread over several.
//
// # Endpoints
//
//   - POST /api/v1/signals/prometheus takes Alertmanager's webhook payload (version "4"). Each
//     alert of the batch is handled on its own and reported in the response: created, duplicate,
//     resolved or rejected (with the reason).
//   - POST /api/v1/signals/kubernetes-event takes a core/v1 Event. Warning events become signals
//     (the reason is the signal name, the involved object the target); Normal events are
//     acknowledged and ignored.
//
// Answers: 201 when a request was created, 202 when every accepted signal was a duplicate, 200
// for resolved-only batches and ignored events, 400 for malformed input (the body says what is
// wrong), 401 without an accepted bearer token, 405 for a wrong method, 413 for a body over
// --max-body-bytes, and 503 with Retry-After when the API server cannot be reached in
// --api-timeout. A signal is never answered 2xx unless it was stored or counted.
//
// # Target and fingerprint
//
// The target comes from the alert's labels through an ordered table, first match wins: the
// operator's mappings (--target-mappings-file), then the built-in lines (builtinRules, in
// targets.go). Scrape labels (job, instance, service, endpoint, prometheus, uid, container,
// cluster) never name the target, except instance where it is a Node's name or InternalIP.
// Namespaced kinds take their namespace from the "namespace" label. The object must exist;
// Pods, ReplicaSets and Jobs are followed through their controller owner references (Pod →
// ReplicaSet → Deployment, Pod → StatefulSet or DaemonSet, Pod → Job → CronJob), read as
// metadata through a bounded LRU cache (metaCache); Nodes come from a slim node index. A signal
// whose labels name nothing Kubernaut can act on is still stored, with
// spec.targetResolution.unresolvedReason and a deterministic pseudo-target of kind Alert (or
// its real target when only its kind has no action), and counted by reason. docs/gateway.md
// is the reference. The fingerprint is
//
//	hex(sha256(kind + "/" + namespace + "/" + name))
//
// of the resolved target, so one failing Deployment is one remediation whatever its pods or its
// alerts are called.
//
// # Duplicate detection under concurrency
//
// A signal is a duplicate while a RemediationRequest with its fingerprint is not terminal, or
// ended less than --dedup-cooldown ago. Requests of one fingerprint form a sequence of
// generations 0, 1, 2, …; generation g is named deterministically
//
//	remediation-<first 16 hex of sha256(fingerprint + "/" + g)>
//
// and records g in the annotation kubernaut.io/signal-generation. To place a firing signal the
// gateway looks up the newest known generation: its own last write, or the informer's copy
// when that is of a higher generation or a newer resourceVersion of the same request. If that
// request is active, it increments status.deduplication.occurrenceCount with a JSON merge
// patch carrying the resourceVersion it read (optimistic lock); on a conflict it re-reads the
// request from the API server (not the cache) and tries again, so no increment is lost and a
// request that turned terminal meanwhile is noticed. Otherwise it creates generation g+1. Concurrent creators — goroutines of one
// replica or different replicas — race on the same name: the API server lets exactly one
// Create succeed, and every loser gets AlreadyExists, reads that request from the API server
// and becomes a duplicate increment. A stale cache can therefore only cost extra round trips,
// never a second request or a lost count.
//
// Within one replica, signals of the same fingerprint are grouped: while one write for a
// fingerprint is in flight, the signals that arrive meanwhile wait and are applied together
// by the next write (occurrenceCount += n), and each HTTP answer is sent only after the write
// that includes its signal succeeded. This keeps a burst of identical alerts from turning into
// a storm of conflicting writes. Each duplicate costs at most one status patch, and a burst of
// one alert far less (BenchmarkDuplicatesVsPatchCeiling reports API calls per signal). Signals
// of different fingerprints cannot share a write, so duplicates spread over many fingerprints
// with one signal in flight per fingerprint are bounded by the API server's status patch rate.
//
// A 503 answers the whole batch, so Alertmanager resends it; alerts of that batch that were
// already stored are then counted again as duplicates. The gateway errs towards over-counting,
// never towards losing a signal. The same holds when a write outlives --api-timeout.
// Replicas decide "ended less than the cooldown ago" with their own clocks, so at the cooldown
// boundary two replicas with skewed clocks may disagree for the width of the skew.
//
// status.deduplication is written at the first duplicate (firstSeen = spec.receivedTime), so
// creating a request costs one API call. A resolved alert sets status.signalResolvedAt on the
// newest non-terminal request of its fingerprint (the orchestrator's verification reads it) and
// never creates a request.
//
// # Reading and writing RemediationRequests
//
// Every replica runs its own informer on the RemediationRequests of --namespace (indexed by
// spec.signalFingerprint), and reads and writes them through its own REST client. Both decode
// into a slim type that names only what the gateway reads: name, namespace, uid,
// resourceVersion, creation and deletion time, the generation annotation, spec.signalFingerprint,
// spec.receivedTime, status.overallPhase, completionTime, deduplication and signalResolvedAt.
// Plain encoding/json decodes each document with one call (the API machinery's codecs make
// three, and five for a watch event), skips every other field without allocating, and the
// base64 of spec.originalPayload is cut out before any JSON scan. Creating a request sends it
// as encoded by encoding/json and decodes the answer into the slim type like any other read;
// counting a duplicate sends a hand-built JSON merge patch of
// status.deduplication with the resourceVersion of the gateway's last write (no copy or diff
// of whole objects). The stored payload of an alert is built only when a request is created.
//
// # Memory
//
// The informer's store holds the slim type only; Namespaces are cached as metadata by the
// manager; target resolution keeps at most --owner-cache-size objects' existence and controller,
// and each Node's name and InternalIPs. BenchmarkCacheMemory10k and BenchmarkOwnerCacheMemory10k
// measure them (figures in docs/benchmarks.md).
//
// # Metrics
//
// On controller-runtime's registry:
//
//   - kubernaut_gateway_signals_received_total{source}: signals received (per alert or event).
//   - kubernaut_gateway_signals_created_total{source}: RemediationRequests created.
//   - kubernaut_gateway_signals_deduplicated_total{source}: duplicates counted on an active request.
//   - kubernaut_gateway_signals_resolved_total{source,matched}: resolved alerts, matched="true" when a request was marked.
//   - kubernaut_gateway_signals_rejected_total{source,reason}: signals not stored (malformed, invalid_alert, invalid, unavailable, normal_event).
//   - kubernaut_gateway_signals_unresolved_total{reason}: firing signals stored without a target Kubernaut can act on (UnresolvedReasons).
//   - kubernaut_gateway_owner_cache_lookups_total{result}: target resolution's metadata lookups (hit, shared, miss).
//   - kubernaut_gateway_http_request_duration_seconds{endpoint,code}: request latency.
//   - kubernaut_gateway_api_errors_total{operation}: failed API server calls other than expected conflicts.
//
// source is "prometheus" or "kubernetes-event".
package gateway
