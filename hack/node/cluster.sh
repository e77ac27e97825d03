#!/usr/bin/env bash
# A cluster whose nodes are real kubelets (make test-e2e-deployed; docs/deployed.md):
# its own etcd, kube-apiserver, kube-controller-manager and kube-scheduler (bin/k8s/<version>, as
# `make envtest-assets` builds them), and on this machine NODES kubelet nodes (default 2, as the kind
# cluster has: the two replicas of a Deployment spread over two nodes, and each node brings the
# host's CPUs as allocatable, which the suite's workloads need). Each node is a kubelet with its own
# containerd + runc (Debian), root directory, CNI bridge (Debian's containernetworking-plugins) and
# pod subnet. The nodes share the host's network namespace, so one kube-proxy serves the Services
# and one CoreDNS resolves their names. kubelet and kube-proxy are built from k8s.io/kubernetes,
# CoreDNS from its Go module (hack/node/build.sh).
#
#   hack/node/cluster.sh up       start everything, wait for the nodes to be Ready
#   hack/node/cluster.sh down     stop everything and remove what it left outside $NODE_DIR
#                                 (iptables chains, network namespaces, the bridges, mounts,
#                                 /var/lib/kubelet/device-plugins, /var/log/containers|pods)
#   hack/node/cluster.sh import FILE...   import image archives into every node's containerd
#   hack/node/cluster.sh env      print the kubeconfig path and the nodes' address
#
# Separate from the local cluster of `make test-e2e` and from the envtest API servers other tests
# start: own ports, own data directory ($NODE_DIR, default bin/deployed), its own containerd socket.
# The API server listens on the host's address (HOST_IP, default: the first global IPv4 address),
# not on 127.0.0.1: pods on the bridge reach the host's address, never its loopback.
# Processes die with this script's caller only through `down`; `up` leaves them running.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
K8S_VERSION="${K8S_VERSION:-1.37.2}"
ASSETS="${ASSETS:-$ROOT/bin/k8s/$K8S_VERSION}"
NODE_BIN="${NODE_BIN:-$ASSETS/node}"
export PATH="$PATH:$NODE_BIN" # kubectl, when hack/node/build.sh had to build it
NODE_DIR="${NODE_DIR:-$ROOT/bin/deployed}"
RUN_DIR=/run/kubernaut-node # containerd's state (sockets of the shims, runc's state): needs a tmpfs-like place
NODES="${NODES:-2}"
HOST_IP="${HOST_IP:-$(ip -o -4 addr show scope global | awk '!n++ {sub("/.*", "", $4); print $4}')}"
APISERVER_PORT="${APISERVER_PORT:-16443}"
ETCD_PORT="${ETCD_PORT:-23790}"
KUBELET_PORT="${KUBELET_PORT:-10250}"
POD_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
CNI_NET=kubernaut-node
KUBECONFIG_FILE="$NODE_DIR/kubeconfig"
PAUSE_IMAGE=kubernaut.local/pause:1
LOGS="$NODE_DIR/logs"

log() { echo "node: $*" >&2; }
die() {
  echo "node: $*" >&2
  exit 1
}

# Debian packages the node needs; a fresh machine gets them with apt-get (the only registry used).
ensure_packages() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v openssl >/dev/null || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return
  log "installing missing Debian packages: ${missing[*]} (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$LOGS/apt.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$LOGS/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 ||
      die "apt-get install ${missing[*]} failed: $LOGS/apt.log"
  fi
}

# start NAME CMD...: runs CMD in its own session, output in $LOGS/NAME.log, pid in $NODE_DIR/pids/NAME.
start() {
  local name=$1
  shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$NODE_DIR/pids/$name"
}

running() { [ -f "$NODE_DIR/pids/$1" ] && kill -0 "$(cat "$NODE_DIR/pids/$1")" 2>/dev/null; }

# wait_for WHAT SECONDS CMD...: polls CMD until it succeeds.
wait_for() {
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "$what: not ready after ${secs}s (logs in $LOGS)"
    sleep 0.5
  done
}

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

certs() {
  local d="$NODE_DIR/pki"
  [ -f "$d/apiserver.crt" ] && return
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kubernaut-node-ca" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$d/apiserver.key" -out "$d/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,IP:10.96.0.1,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' \
    "$HOST_IP" >"$d/san.ext"
  openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
    -extfile "$d/san.ext" -out "$d/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  echo "$(openssl rand -hex 24),admin,admin,system:masters" >"$d/tokens.csv"
}

kubeconfig() {
  local token
  token=$(cut -d, -f1 "$NODE_DIR/pki/tokens.csv")
  cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: kubernaut-node
    cluster: {server: "https://$HOST_IP:$APISERVER_PORT", certificate-authority: "$NODE_DIR/pki/ca.crt"}
users:
  - name: admin
    user: {token: "$token"}
contexts:
  - name: kubernaut-node
    context: {cluster: kubernaut-node, user: admin}
current-context: kubernaut-node
EOF
}

control_plane() {
  local pki="$NODE_DIR/pki"
  start etcd "$ASSETS/etcd" --name node --data-dir "$NODE_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "node=http://127.0.0.1:$((ETCD_PORT + 1))" --unsafe-no-fsync
  start kube-apiserver "$ASSETS/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$HOST_IP" --advertise-address "$HOST_IP" --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC --allow-privileged=true \
    --service-cluster-ip-range "$SERVICE_CIDR" --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --kubelet-preferred-address-types InternalIP --cert-dir "$pki/generated"
  kubeconfig
  wait_for kube-apiserver 120 kc get --raw /readyz
  start kube-controller-manager "$ASSETS/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
    --leader-elect=false --secure-port=0 --service-account-private-key-file "$pki/sa.key" \
    --root-ca-file "$pki/ca.crt" --use-service-account-credentials=false --cluster-cidr "$POD_CIDR" \
    --node-monitor-grace-period 2m
  start kube-scheduler "$ASSETS/kube-scheduler" --kubeconfig "$KUBECONFIG_FILE" --leader-elect=false --secure-port=0
}

# node_vars I: the names and places of node I (1..NODES): N_NAME kubernaut-node-I, N_DIR (its
# containerd root, kubelet root, CNI config, pod logs), N_RUN (containerd's state and sockets),
# N_PORT (its kubelet's port), N_BRIDGE and N_CIDR (10.244.I.0/24), CTR (ctr on its containerd).
node_vars() {
  N_NAME=kubernaut-node-$1
  N_DIR=$NODE_DIR/node-$1
  N_RUN=$RUN_DIR/node-$1
  N_PORT=$((KUBELET_PORT + $1 - 1))
  N_BRIDGE=kn-br$1
  N_CIDR=10.244.$1.0/24
  CTR=(ctr --address "$N_RUN/containerd.sock" -n k8s.io)
}

# containerd_up I: node I's containerd and CNI configuration.
containerd_up() {
  node_vars "$1"
  mkdir -p "$N_RUN" "$N_DIR/containerd" "$N_DIR/cni/net.d"
  # The node's CNI network: its own bridge and subnet, host-local addresses kept under $N_DIR (not
  # /var/lib/cni), hairpin so that a pod reaches itself through its Service. No masquerade: pods
  # talk only to each other (the host routes between the nodes' bridges) and to the host's address.
  cat >"$N_DIR/cni/net.d/10-kubernaut.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NET",
  "plugins": [
    {"type": "bridge", "bridge": "$N_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$N_DIR/cni/ipam", "ranges": [[{"subnet": "$N_CIDR"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so runc cannot set the negative OOM
  # scores the kubelet asks for; without it every sandbox fails ("can't get final child's PID from pipe").
  cat >"$N_DIR/containerd/config.toml" <<EOF
version = 2
root = "$N_DIR/containerd/root"
state = "$N_RUN/state"
[grpc]
  address = "$N_RUN/containerd.sock"
[ttrpc]
  address = "$N_RUN/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$N_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$N_RUN/runc"
EOF
  start "containerd-$1" containerd --config "$N_DIR/containerd/config.toml"
  wait_for "containerd of $N_NAME" 60 "${CTR[@]}" version
}

pause_image() {
  local out="$NODE_DIR/images/pause.tar"
  if [ ! -f "$out" ]; then
    local work
    work=$(mktemp -d)
    mkdir -p "$work/rootfs" "$NODE_DIR/images"
    (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/rootfs/pause" ./hack/node/pause)
    tar --numeric-owner --owner=0 --group=0 -C "$work/rootfs" -cf "$work/layer.tar" .
    (cd "$ROOT" && go run ./hack/node/rootfsimage --layer "$work/layer.tar" --tag "$PAUSE_IMAGE" --out "$out" \
      --entrypoint /pause --user 65535:65535)
    rm -rf "$work"
  fi
  import "$out"
}

# import FILE...: into the containerd of every node.
import() {
  local f i
  for i in $(seq 1 "$NODES"); do
    node_vars "$i"
    for f in "$@"; do
      "${CTR[@]}" images import "$f" >/dev/null || die "ctr images import $f into $N_NAME failed"
    done
    log "imported into $N_NAME: $(for f in "$@"; do basename "$f" .tar; done | tr '\n' ' ')"
  done
}

# kubelet_up I: node I's kubelet.
kubelet_up() {
  node_vars "$1"
  mkdir -p "$N_DIR/kubelet" "$N_DIR/pod-logs"
  # Settings for this cgroup v1 host without systemd: the cgroupfs driver, no QoS cgroups or
  # node-allocatable enforcement (the kubelet cannot create them here), no eviction thresholds (a
  # shared disk), swap and cgroup v1 tolerated. Memory limits still apply per container (runc),
  # so the OOM kills the e2e suite stages are real.
  cat >"$N_DIR/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
evictionHard: {}
port: $N_PORT
readOnlyPort: 0
healthzPort: 0
address: $HOST_IP
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDNS: [$HOST_IP]
clusterDomain: cluster.local
resolvConf: $NODE_DIR/resolv.conf
containerRuntimeEndpoint: unix://$N_RUN/containerd.sock
podLogsDir: $N_DIR/pod-logs
serializeImagePulls: false
maxPods: 110
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
  start "kubelet-$1" "$NODE_BIN/kubelet" --config "$N_DIR/kubelet-config.yaml" --kubeconfig "$KUBECONFIG_FILE" \
    --root-dir "$N_DIR/kubelet" --hostname-override "$N_NAME" --node-ip "$HOST_IP" --v 1
}

# services_up: kube-proxy and CoreDNS, once for the host whose network namespace the nodes share.
services_up() {
  # Upstream resolvers for CoreDNS and for pods with dnsPolicy Default: the host's, minus loopback ones.
  grep -E '^nameserver' /etc/resolv.conf | grep -vE '127\.|::1' >"$NODE_DIR/resolv.conf" || true
  [ -s "$NODE_DIR/resolv.conf" ] || echo "nameserver $HOST_IP" >"$NODE_DIR/resolv.conf"
  # NodePorts on the host's address only: none on 127.0.0.1 (which would need route_localnet).
  cat >"$NODE_DIR/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$KUBECONFIG_FILE"}
mode: iptables
hostnameOverride: kubernaut-node-1
clusterCIDR: $POD_CIDR
nodePortAddresses: ["$HOST_IP/32"]
bindAddress: $HOST_IP
healthzBindAddress: "127.0.0.1:10356"
metricsBindAddress: "127.0.0.1:10349"
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start kube-proxy "$NODE_BIN/kube-proxy" --config "$NODE_DIR/kube-proxy-config.yaml"
  cat >"$NODE_DIR/Corefile" <<EOF
.:53 {
    bind $HOST_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG_FILE kubernaut-node
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . $NODE_DIR/resolv.conf
    cache 5
}
EOF
  start coredns "$NODE_BIN/coredns" -conf "$NODE_DIR/Corefile"
}

# A volume for PostgreSQL's claim (data-postgres-0): a hostPath PersistentVolume under $NODE_DIR,
# owned by PostgreSQL's uid (the nodes share the host's filesystem, so it serves on either node).
# No StorageClass: the claim of the base names none and binds to it.
volumes() {
  mkdir -p "$NODE_DIR/volumes/postgres"
  chown 999:999 "$NODE_DIR/volumes/postgres"
  chmod 700 "$NODE_DIR/volumes/postgres"
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: kubernaut-node-postgres
  labels: {app.kubernetes.io/name: postgres}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: "$NODE_DIR/volumes/postgres", type: Directory}
  claimRef: {namespace: kubernaut-system, name: data-postgres-0}
EOF
}

up() {
  [ -n "$HOST_IP" ] || die "no global IPv4 address on this host (set HOST_IP)"
  [ -x "$ASSETS/kube-apiserver" ] || die "$ASSETS/kube-apiserver missing: make envtest-assets"
  [ -x "$NODE_BIN/kubelet" ] || die "$NODE_BIN/kubelet missing: hack/node/build.sh"
  mkdir -p "$LOGS" "$NODE_DIR/pids"
  ensure_packages
  if running kube-apiserver && running kubelet-1; then
    log "already up (kubeconfig $KUBECONFIG_FILE)"
    return
  fi
  record_host_state
  # Service traffic from a pod to a pod (on its bridge or another node's) is routed by the host.
  sysctl -qw net.ipv4.ip_forward=1
  certs
  control_plane
  local i
  for i in $(seq 1 "$NODES"); do containerd_up "$i"; done
  pause_image
  services_up
  for i in $(seq 1 "$NODES"); do kubelet_up "$i"; done
  for i in $(seq 1 "$NODES"); do
    wait_for "node kubernaut-node-$i Ready" 180 kc wait --for condition=Ready --timeout 5s "node/kubernaut-node-$i"
  done
  volumes
  log "$NODES nodes Ready: kubeconfig $KUBECONFIG_FILE, API server https://$HOST_IP:$APISERVER_PORT"
}

# What the host had before `up`, so that `down` removes only what the node added.
record_host_state() {
  local f="$NODE_DIR/host-state"
  [ -f "$f" ] && return
  {
    echo "ip_forward=$(sysctl -n net.ipv4.ip_forward)"
    for d in /var/lib/kubelet /var/log/containers /var/log/pods /var/lib/cni /var/run/netns /run/containerd; do
      [ -e "$d" ] && echo "existed=$d"
    done
    { ls /var/run/netns 2>/dev/null || true; } | sed 's/^/netns=/'
  } >"$f"
}

stop() {
  local name=$1 pid
  [ -f "$NODE_DIR/pids/$name" ] || return 0
  pid=$(cat "$NODE_DIR/pids/$name")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$NODE_DIR/pids/$name"
}

# delete_iptables_chain TABLE CHAIN: removes every rule jumping to CHAIN in TABLE, then CHAIN.
delete_iptables_chain() {
  local ipt=$1 table=$2 chain=$3 rule
  { "$ipt" -t "$table" -S 2>/dev/null | grep -E -- "-j $chain( |$)" || true; } | sed 's/^-A /-D /' | while read -r rule; do
    eval "$ipt -t $table $rule" 2>/dev/null || true
  done
  "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
  "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
}

down() {
  mkdir -p "$LOGS" "$NODE_DIR/pids"
  local i p t pid
  # Pods first, while the kubelets run: they tear the sandboxes down (CNI DEL releases each pod's
  # address and network namespace).
  if running kubelet-1 && running kube-apiserver; then
    kc delete deployments,statefulsets,replicasets,daemonsets,jobs --all --all-namespaces --wait=false >/dev/null 2>&1 || true
    kc delete pods --all --all-namespaces --grace-period=2 --timeout=90s >/dev/null 2>&1 || true
  fi
  for p in coredns kube-proxy; do stop "$p"; done
  for i in $(seq 1 "$NODES"); do stop "kubelet-$i"; done
  for p in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$p"; done
  # Containers the kubelets did not get to: killed through their containerd, then containerd, then
  # any shim left (started by that containerd, found by its socket path, which is the node's own).
  for i in $(seq 1 "$NODES"); do
    node_vars "$i"
    if running "containerd-$i"; then
      for t in $("${CTR[@]}" tasks ls -q 2>/dev/null); do "${CTR[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    fi
    stop "containerd-$i"
    for pid in $(pgrep -f -- "-address $N_RUN/containerd.sock" || true); do kill -9 "$pid" 2>/dev/null || true; done
  done
  # kube-proxy's rules (its own cleanup), then the chains the kubelets add. Nothing else is touched.
  if [ -x "$NODE_BIN/kube-proxy" ]; then "$NODE_BIN/kube-proxy" --cleanup >"$LOGS/kube-proxy-cleanup.log" 2>&1 || true; fi
  local ipt table chain
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for table in filter nat mangle; do
      for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT KUBE-FORWARD KUBE-SERVICES KUBE-NODEPORTS \
        KUBE-EXTERNAL-SERVICES KUBE-PROXY-CANARY KUBE-POSTROUTING KUBE-MARK-MASQ KUBE-MARK-DROP KUBE-PROXY-FIREWALL; do
        delete_iptables_chain "$ipt" "$table" "$chain"
      done
    done
  done
  for i in $(seq 1 "$NODES"); do
    node_vars "$i"
    ip link del "$N_BRIDGE" 2>/dev/null || true
  done
  # Mounts under the nodes' directories (pod volumes, container root filesystems).
  local m
  for m in $(awk '{print $2}' /proc/mounts | grep -E "^($NODE_DIR|$RUN_DIR)/" | sort -r); do umount -l "$m" 2>/dev/null || true; done
  # Network namespaces containerd made (cni-*) that were not there before `up`.
  local state="$NODE_DIR/host-state"
  if [ -d /var/run/netns ]; then
    for m in /var/run/netns/cni-*; do
      [ -e "$m" ] || continue
      grep -qx "netns=$(basename "$m")" "$state" 2>/dev/null && continue
      umount -l "$m" 2>/dev/null || true
      rm -f "$m"
    done
  fi
  if [ -f "$state" ]; then
    for d in /var/lib/kubelet /var/log/containers /var/log/pods /var/lib/cni /var/run/netns /run/containerd; do
      grep -qx "existed=$d" "$state" || rm -rf "$d"
    done
    local fwd
    fwd=$(sed -n 's/^ip_forward=//p' "$state")
    [ -n "$fwd" ] && sysctl -qw "net.ipv4.ip_forward=$fwd"
    rm -f "$state"
  fi
  rm -rf "$RUN_DIR"
  # The cluster's state goes too (etcd, the kubelets' roots, the volume): a next `up` starts fresh.
  # Images stay in the nodes' containerd roots (a next import is quick) unless NODE_KEEP_IMAGES=0.
  rm -rf "$NODE_DIR/etcd" "$NODE_DIR/volumes" "$NODE_DIR/pids"
  for i in $(seq 1 "$NODES"); do
    node_vars "$i"
    rm -rf "$N_DIR/kubelet" "$N_DIR/pod-logs" "$N_DIR/cni/ipam"
    if [ "${NODE_KEEP_IMAGES:-1}" = 0 ]; then rm -rf "$N_DIR/containerd/root"; fi
  done
  log "down: processes stopped; iptables chains, network namespaces, bridges, mounts and host directories the nodes added removed"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  import)
    shift
    import "$@"
    ;;
  env) echo "KUBECONFIG=$KUBECONFIG_FILE HOST_IP=$HOST_IP" ;;
  *) die "usage: $0 up|down|import FILE...|env" ;;
esac
