# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are used by the scripts that source this file
# Shared by lab/up, lab/down, lab/status and lab/load: paths, logging, and the config parser.
# The config is parsed field by field and validated; it is never sourced or evaluated.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(dirname "$LAB_DIR")
STATE_DIR=$LAB_DIR/.state
CACHE_DIR=$LAB_DIR/.cache
STATE_JSON=$STATE_DIR/lab.json
# The config lab/up used, kept so that lab/down removes exactly what was made even if lab.conf changed since.
STATE_CONFIG=$STATE_DIR/lab.conf
SHARED_DIR=$STATE_DIR/shared
# The VMs' disks, served over NBD by the lab's storage server (qemu-storage-daemon in the root namespace).
STORAGE_DIR=$STATE_DIR/storage
LXCFS_DIR=$STATE_DIR/lxcfs
CGROUP_PARENT=loadshift-lab
CGROUP_CONTROLLERS=(cpu cpuacct cpuset memory)
LIBVIRT_TCP_PORT=16509
EXPORTER_PORT=10179

log() { printf '%s lab: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "run as root (the lab creates namespaces, cgroups and mounts)"
}

# Converts 128M, 2G, 512K or a plain byte count to bytes.
to_bytes() {
    local value=$1
    case "$value" in
        *K) echo $((${value%K} * 1024)) ;;
        *M) echo $((${value%M} * 1024 * 1024)) ;;
        *G) echo $((${value%G} * 1024 * 1024 * 1024)) ;;
        *) echo "$((value))" ;;
    esac
}

# The config, filled by load_config.
SUBNET_PREFIX=""   # first three octets, e.g. 10.213.7
BRIDGE=""
ROOT_ADDRESS=""
CLIENT_NETNS=""
CLIENT_ADDRESS=""
STORAGE_PORT=""
STORAGE_DISK_BYTES=""
HOSTS=()
VMS=()
declare -A HOST_ADDRESS=() HOST_CPU=() HOST_MEMORY=() VM_HOME=() VM_ADDRESS=() VM_MAC=() VM_MEMORY=()

config_error() { die "$CONFIG_FILE:$CONFIG_LINE: $*"; }

check_name() {
    # Names become netns, cgroup, interface (lsv-<name>, at most 15 characters) and domain names.
    [[ $1 =~ ^[a-z][a-z0-9]{0,10}$ ]] || config_error "bad name '$1' (lowercase letters and digits, at most 11)"
}

check_address() {
    [[ $1 =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.([0-9]+)$ ]] || config_error "bad address '$1'"
    [[ ${BASH_REMATCH[1]} == "$SUBNET_PREFIX" ]] || config_error "address $1 is outside subnet $SUBNET_PREFIX.0/24"
    local last=${BASH_REMATCH[2]}
    ((last >= 1 && last <= 254)) || config_error "address $1 is not a host address"
    [[ -z ${SEEN_ADDRESS[$1]:-} ]] || config_error "address $1 is used twice"
    SEEN_ADDRESS[$1]=1
}

check_memory() {
    [[ $1 =~ ^[0-9]+[KMG]?$ ]] || config_error "bad memory size '$1' (e.g. 128M, 2G)"
}

load_config() {
    CONFIG_FILE=$1
    [[ -r $CONFIG_FILE ]] || die "config file $CONFIG_FILE not readable"
    CONFIG_LINE=0
    declare -gA SEEN_ADDRESS=()
    local kind a b c d e extra
    while IFS= read -r line || [[ -n $line ]]; do
        CONFIG_LINE=$((CONFIG_LINE + 1))
        line=${line%%#*}
        [[ $line =~ [^[:space:]] ]] || continue
        read -r kind a b c d e extra <<<"$line"
        if [[ $kind != subnet && -z $SUBNET_PREFIX ]]; then
            config_error "the subnet record must come first"
        fi
        case "$kind" in
            subnet)
                [[ $a =~ ^(10\.[0-9]+|172\.(1[6-9]|2[0-9]|3[01])|192\.168)\.[0-9]+\.0/24$ ]] ||
                    config_error "subnet must be a private a.b.c.0/24, got '$a'"
                SUBNET_PREFIX=${a%.0/24}
                ;;
            bridge)
                [[ $a =~ ^[a-z][a-z0-9]{0,14}$ ]] || config_error "bad bridge name '$a'"
                BRIDGE=$a
                ;;
            root)
                check_address "$a"
                ROOT_ADDRESS=$a
                ;;
            client)
                check_name "$a"
                check_address "$b"
                CLIENT_NETNS=$a
                CLIENT_ADDRESS=$b
                ;;
            storage)
                if ! [[ $a =~ ^[1-9][0-9]{3,4}$ ]] || ((a < 1024 || a > 65535)); then
                    config_error "bad storage port '$a' (1024-65535)"
                fi
                check_memory "$b"
                [[ -z $c ]] || config_error "extra field '$c'"
                STORAGE_PORT=$a
                STORAGE_DISK_BYTES=$(to_bytes "$b")
                ((STORAGE_DISK_BYTES >= 1024 * 1024)) || config_error "storage disk size '$b' is below 1M"
                ;;
            host)
                check_name "$a"
                [[ -z ${HOST_ADDRESS[$a]:-} ]] || config_error "host $a defined twice"
                check_address "$b"
                [[ $c =~ ^[0-9]+(\.[0-9]+)?$ && $c != 0 && $c != 0.0 ]] || config_error "bad CPU quota '$c' for host $a"
                check_memory "$d"
                [[ -z $e ]] || config_error "extra field '$e'"
                HOSTS+=("$a")
                HOST_ADDRESS[$a]=$b
                HOST_CPU[$a]=$c
                HOST_MEMORY[$a]=$(to_bytes "$d")
                ;;
            vm)
                check_name "$a"
                [[ -z ${VM_HOME[$a]:-} ]] || config_error "vm $a defined twice"
                [[ -n ${HOST_ADDRESS[$b]:-} ]] || config_error "vm $a: home host '$b' is not defined above"
                check_address "$c"
                [[ $d =~ ^52:54:00(:[0-9a-f]{2}){3}$ ]] || config_error "vm $a: MAC must look like 52:54:00:xx:xx:xx"
                check_memory "$e"
                [[ -z $extra ]] || config_error "extra field '$extra'"
                VMS+=("$a")
                VM_HOME[$a]=$b
                VM_ADDRESS[$a]=$c
                VM_MAC[$a]=$d
                VM_MEMORY[$a]=$(to_bytes "$e")
                ;;
            *) config_error "unknown record '$kind'" ;;
        esac
    done <"$CONFIG_FILE"
    CONFIG_LINE=end
    [[ -n $BRIDGE ]] || config_error "no bridge record"
    [[ -n $ROOT_ADDRESS ]] || config_error "no root record"
    [[ -n $CLIENT_NETNS ]] || config_error "no client record"
    ((${#HOSTS[@]} > 0)) || config_error "no host record"
    [[ -z ${HOST_ADDRESS[$CLIENT_NETNS]:-} ]] || config_error "client netns '$CLIENT_NETNS' has a host's name"
}

# The config to use: --config/LAB_CONFIG, else lab/lab.conf.
default_config() {
    echo "${LAB_CONFIG:-$LAB_DIR/lab.conf}"
}

# Is the lab in lab.json reachable through its own bridge? After a reboot lab/.state survives but the bridge and
# namespaces do not, and the lab's addresses would then be routed out of this machine (by the default route)
# instead of to the lab: nothing may talk to them until this holds.
lab_routed() {
    [[ -f $STATE_JSON ]] || return 1
    local bridge address route
    bridge=$(jq -r '.bridge' "$STATE_JSON") || return 1
    address=$(jq -r '.hosts[0].address' "$STATE_JSON") || return 1
    [[ -e /sys/class/net/$bridge ]] || return 1
    route=$(ip -o route get "$address" 2>/dev/null) || return 1
    [[ $route == *" dev $bridge "* ]]
}

# For the scripts that talk to a running lab: dies unless lab.json exists and its addresses go to its bridge.
require_lab() {
    [[ -f $STATE_JSON ]] || die "the lab is not up ($STATE_JSON is missing): run lab/up"
    lab_routed || die "the lab is not up: $STATE_JSON is there, but its addresses do not go to its bridge $(jq -r '.bridge' "$STATE_JSON") (a reboot?): run lab/down, then lab/up"
}

# A fixed MAC for a bridge that carries an address (02:00 and the address's four bytes: locally administered, never
# a VM's 52:54:00:... nor a tap's fe:54:00:...). Left alone, a Linux bridge takes the lowest MAC among its ports; a
# host's br0 then takes a VM's tap MAC whenever its veth happens to draw a random MAC above fe:54, changes it as VMs
# come and go, and during a live migration the target's tap holds the same MAC as a local port: the target's replies
# to the source host stay inside the target, and QEMU's migration connection times out (seen in CI).
bridge_mac() {
    local IFS=.
    # shellcheck disable=SC2086 # split the dotted address into its four bytes
    set -- $1
    printf '02:00:%02x:%02x:%02x:%02x\n' "$1" "$2" "$3" "$4"
}

host_uri() { echo "qemu+tcp://${HOST_ADDRESS[$1]}/system"; }

host_cgroup() { echo "/sys/fs/cgroup/$1/$CGROUP_PARENT/$2"; }

host_dir() { echo "$STATE_DIR/hosts/$1"; }

# Is PID alive and its command name NAME? Guards against killing a recycled PID.
pid_is() {
    local pid=$1 name=$2 comm
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$name"* ]]
}
