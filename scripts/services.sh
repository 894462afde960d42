#!/usr/bin/env bash
# scripts/services.sh: make sure the PostgreSQL and Redis that epom needs are
# installed, running and configured. Safe to run any number of times.
#
#   scripts/services.sh            install/start/configure, then print the DSNs
#   scripts/services.sh --browser  the same, and also make sure chromium is installed
#   scripts/services.sh --check    only report what is present; changes nothing
#                                  (exit status 1 if something is missing)
#
# Progress goes to stderr as short "services: ..." lines (nothing at all when
# there was nothing to do); stdout gets only KEY=VALUE lines with the DSNs, so
#   eval "$(scripts/services.sh)"
# works. Works as root, as a user with sudo, and in CI (CI=true, no stdin, no
# systemd): services are started with pg_ctlcluster/redis-server, never systemctl.
#
# Environment (defaults in brackets):
#   EPOM_PG_PORT [5432]  EPOM_PG_DATABASE [epom]  EPOM_REDIS_PORT [6379]
#   EPOM_PG_OWNER_PASSWORD [epom_owner]  EPOM_PG_APP_PASSWORD [epom_app]
#   EPOM_PG_PLATFORM_PASSWORD [epom_platform]
set -euo pipefail

PG_PORT=${EPOM_PG_PORT:-5432}
PG_DB=${EPOM_PG_DATABASE:-epom}
REDIS_PORT=${EPOM_REDIS_PORT:-6379}
OWNER_ROLE=epom_owner
APP_ROLE=epom_app
PLATFORM_ROLE=epom_platform
OWNER_PW=${EPOM_PG_OWNER_PASSWORD:-epom_owner}
APP_PW=${EPOM_PG_APP_PASSWORD:-epom_app}
PLATFORM_PW=${EPOM_PG_PLATFORM_PASSWORD:-epom_platform}
PG_WAIT_SECONDS=30
REDIS_WAIT_SECONDS=15

# Connection settings from the caller's environment must not redirect our psql calls.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGSSLMODE \
	PGREQUIRESSL PGCLUSTER PGTARGETSESSIONATTRS PGCONNECT_TIMEOUT

say() { printf 'services: %s\n' "$*" >&2; }
die() {
	printf 'services: ERROR: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

MODE=ensure
WANT_BROWSER=0
for arg in "$@"; do
	case $arg in
	--browser) WANT_BROWSER=1 ;;
	--check) MODE=check ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument '$arg' (see --help)" ;;
	esac
done

for port_var in PG_PORT REDIS_PORT; do
	if ! [[ ${!port_var} =~ ^[0-9]{1,5}$ ]] || ((10#${!port_var} < 1 || 10#${!port_var} > 65535)); then
		die "$port_var='${!port_var}' is not a valid TCP port"
	fi
done
[[ -n $PG_DB && $PG_DB != *=* ]] || die "EPOM_PG_DATABASE must be a plain, non-empty database name"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/epom-services.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------------------
# helpers

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1
# Never let sudo prompt when there is nobody to answer (CI, no stdin).
SUDO=(sudo)
if [[ ! -t 0 || ${CI:-} == true || ${CI:-} == 1 ]]; then
	SUDO=(sudo -n)
fi

# require_root WHAT: die unless we are root or have sudo.
require_root() {
	((IS_ROOT)) && return 0
	command -v sudo >/dev/null 2>&1 ||
		die "need root to $1, but not running as root and sudo is not installed"
}

# as_root CMD...: run CMD as root (directly or via sudo); call require_root first.
as_root() {
	if ((IS_ROOT)); then
		"$@"
	else
		"${SUDO[@]}" "$@"
	fi
}

# run_logged WHAT CMD...: run CMD with its output captured; show it only on failure.
run_logged() {
	local what=$1 log rc=0
	shift
	log=$(mktemp "$TMP/log.XXXXXX")
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	if ((rc != 0)); then
		tail -n 40 "$log" >&2
		die "$what failed (exit $rc)"
	fi
}

# wait_for SECONDS CMD...: retry CMD until it succeeds; 1 on timeout.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

APT_UPDATED=0
# apt_install [env NAME=VALUE...] PACKAGE...: apt-get update (once) + install.
apt_install() {
	local -a extra_env=()
	while [[ ${1:-} == *=* ]]; do
		extra_env+=("$1")
		shift
	done
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* yourself"
	require_root "install $*"
	if ((!APT_UPDATED)); then
		say "apt-get update"
		run_logged "apt-get update" as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get -q -o DPkg::Lock::Timeout=300 update
		APT_UPDATED=1
	fi
	say "installing $*"
	run_logged "apt-get install $*" as_root env DEBIAN_FRONTEND=noninteractive "${extra_env[@]}" \
		apt-get install -y -q -o DPkg::Lock::Timeout=300 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# urlencode STRING: percent-encode everything but RFC 3986 unreserved characters.
urlencode() {
	local LC_ALL=C s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9._~-]) out+=$c ;;
		*) printf -v c '%%%02X' "'$c" && out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# conninfo_quote VALUE: quote a value for a libpq key=value connection string.
conninfo_quote() {
	local v=${1//\\/\\\\}
	printf "'%s'" "${v//\'/\\\'}"
}

# ---------------------------------------------------------------------------
# PostgreSQL: packages, cluster, server

pg_newest_server_version() {
	local bin v best=""
	for bin in /usr/lib/postgresql/*/bin/postgres; do
		[[ -x $bin ]] || continue
		v=${bin#/usr/lib/postgresql/}
		v=${v%%/*}
		best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)
	done
	printf '%s' "$best"
}

pg_installed() {
	command -v psql >/dev/null 2>&1 && command -v pg_lsclusters >/dev/null 2>&1 &&
		command -v pg_ctlcluster >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1 &&
		[[ -n $(pg_newest_server_version) ]]
}

# Locale settings for clusters created by us (or by the postgresql package's
# postinst): without a UTF-8 locale in the environment (typical for minimal
# containers) the cluster would get SQL_ASCII encoding.
pg_locale_env() {
	[[ $(locale charmap 2>/dev/null || true) == UTF-8 ]] && return 0
	if locale -a 2>/dev/null | grep -ix 'c\.utf-\{0,1\}8' >/dev/null; then
		printf '%s\n' LANG=C.UTF-8 LC_ALL=C.UTF-8
	fi
}

# pg_cluster_on_port: print "VERSION NAME STATUS" of the cluster configured for
# PG_PORT (an online one if several are), nothing if there is none.
pg_cluster_on_port() {
	pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '
		$3 == port && $4 ~ /^online/ { print $1, $2, $4; found = 1; exit }
		$3 == port && first == ""    { first = $1 " " $2 " " $4 }
		END { if (!found && first != "") print first }'
}

pg_tcp_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 3; }

PG_VER=""
PG_CLUSTER=""
ensure_pg_server() {
	local installed_now=0 status="" ver
	local -a locale_env
	mapfile -t locale_env < <(pg_locale_env)
	if ! pg_installed; then
		apt_install "${locale_env[@]}" postgresql
		installed_now=1
		pg_installed || die "postgresql was installed but psql/pg_ctlcluster/server binaries are still missing"
	fi

	read -r PG_VER PG_CLUSTER status < <(pg_cluster_on_port) || true
	if [[ -z $PG_VER ]]; then
		ver=$(pg_newest_server_version)
		if [[ -z $(pg_lsclusters -h 2>/dev/null) ]]; then
			require_root "create a PostgreSQL cluster"
			say "creating PostgreSQL cluster $ver/main on port $PG_PORT"
			run_logged "pg_createcluster $ver main" as_root env "${locale_env[@]}" \
				pg_createcluster --port "$PG_PORT" "$ver" main
		elif ((installed_now)) && pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" { f = 1 } END { exit !f }'; then
			# The cluster the package just created got another port; nobody uses it yet.
			require_root "configure the PostgreSQL port"
			say "moving new PostgreSQL cluster $ver/main to port $PG_PORT"
			as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main stop >/dev/null 2>&1 || true
			run_logged "pg_conftool set port" as_root pg_conftool "$ver" main set port "$PG_PORT"
		else
			pg_lsclusters >&2 || true
			die "no PostgreSQL cluster is configured for port $PG_PORT; set EPOM_PG_PORT to the port of one of the clusters above, or change one's port (pg_conftool VER NAME set port $PG_PORT, then restart it)"
		fi
		read -r PG_VER PG_CLUSTER status < <(pg_cluster_on_port) || true
		[[ -n $PG_VER ]] || die "PostgreSQL cluster for port $PG_PORT not found after creating it"
	fi

	if [[ $status != online* ]]; then
		require_root "start PostgreSQL"
		say "starting PostgreSQL cluster $PG_VER/$PG_CLUSTER"
		run_logged "pg_ctlcluster $PG_VER $PG_CLUSTER start" as_root \
			pg_ctlcluster --skip-systemctl-redirect "$PG_VER" "$PG_CLUSTER" start
	fi

	wait_for "$PG_WAIT_SECONDS" pg_tcp_ready ||
		die "PostgreSQL $PG_VER/$PG_CLUSTER does not accept connections on 127.0.0.1:$PG_PORT after ${PG_WAIT_SECONDS}s (is listen_addresses set to include localhost/127.0.0.1 in /etc/postgresql/$PG_VER/$PG_CLUSTER/postgresql.conf? see /var/log/postgresql/postgresql-$PG_VER-$PG_CLUSTER.log)"
}

# ---------------------------------------------------------------------------
# PostgreSQL: superuser access, roles, database, privileges

PG_SU=()
# pg_su PSQL-ARGS...: run psql as a PostgreSQL superuser (PG_SU chosen by detect_pg_superuser).
pg_su() {
	(cd / && "${PG_SU[@]}" -X -w -q -v ON_ERROR_STOP=1 "$@")
}

detect_pg_superuser() {
	local -a candidates=()
	if ((IS_ROOT)) && command -v runuser >/dev/null 2>&1; then
		candidates+=(runuser)
	elif ! ((IS_ROOT)) && command -v sudo >/dev/null 2>&1; then
		candidates+=(sudo)
	fi
	candidates+=(tcp self)
	local c
	for c in "${candidates[@]}"; do
		case $c in
		runuser) PG_SU=(runuser -u postgres -- psql -p "$PG_PORT") ;;
		sudo) PG_SU=("${SUDO[@]}" -u postgres psql -p "$PG_PORT") ;;
		tcp) PG_SU=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres) ;;
		self) PG_SU=(psql -p "$PG_PORT") ;;
		esac
		if [[ $(pg_su -d postgres -Atc 'SHOW is_superuser' 2>/dev/null </dev/null) == on ]]; then
			return 0
		fi
	done
	PG_SU=()
	die "cannot connect to PostgreSQL on port $PG_PORT as a superuser (tried: ${candidates[*]}); run as root, as a user with sudo, or with PGPASSWORD set to the postgres user's password"
}

# scram_matches VERIFIER PASSWORD: does the stored SCRAM-SHA-256 verifier belong
# to PASSWORD? (Only to avoid needless ALTER ROLE ... PASSWORD on re-runs; when
# in doubt it says no.)
scram_matches() {
	[[ $1 == SCRAM-SHA-256\$* ]] || return 1
	EPOM_SCRAM_VERIFIER=$1 EPOM_SCRAM_PASSWORD=$2 perl -MDigest::SHA=hmac_sha256,sha256 -MMIME::Base64 -e '
		$ENV{EPOM_SCRAM_VERIFIER} =~ /^SCRAM-SHA-256\$(\d+):([^\$]+)\$([^:]+):(.+)$/ or exit 1;
		my ($iter, $salt, $stored, $server) = ($1, decode_base64($2), decode_base64($3), decode_base64($4));
		my $pw = $ENV{EPOM_SCRAM_PASSWORD};
		my $u = hmac_sha256($salt . pack("N", 1), $pw);
		my $salted = $u;
		for (2 .. $iter) { $u = hmac_sha256($u, $pw); $salted ^= $u; }
		exit((sha256(hmac_sha256("Client Key", $salted)) eq $stored
			&& hmac_sha256("Server Key", $salted) eq $server) ? 0 : 1);
	' 2>/dev/null
}

PSQL_VARS=()
set_psql_vars() {
	PSQL_VARS=(
		-v "owner_role=$OWNER_ROLE" -v "app_role=$APP_ROLE" -v "platform_role=$PLATFORM_ROLE"
		-v "owner_pw=$OWNER_PW" -v "app_pw=$APP_PW" -v "platform_pw=$PLATFORM_PW"
		-v "db=$PG_DB"
	)
}

# role_sql KEY ATTRIBUTES CONDITION: psql script for one role. KEY names the psql
# variables KEY_role / KEY_pw / KEY_pw_ok; CONDITION (over pg_roles columns)
# is true when the role already has ATTRIBUTES.
role_sql() {
	local key=$1 attrs=$2 cond=$3
	cat <<SQL
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'${key}_role') AS missing \\gset
\\if :missing
CREATE ROLE :"${key}_role" $attrs PASSWORD :'${key}_pw';
\\echo created role :${key}_role
\\else
SELECT NOT ($cond) AS fix FROM pg_roles WHERE rolname = :'${key}_role' \\gset
\\if :fix
ALTER ROLE :"${key}_role" $attrs;
\\echo fixed attributes of role :${key}_role
\\endif
\\if :${key}_pw_ok
\\else
ALTER ROLE :"${key}_role" PASSWORD :'${key}_pw';
\\echo set password of role :${key}_role
\\endif
\\endif
SQL
}

setup_sql() {
	cat <<'SQL'
SET client_min_messages = warning;
SET password_encryption = 'scram-sha-256';
SQL
	role_sql owner "LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS" \
		"rolcanlogin AND rolcreatedb AND NOT rolsuper AND NOT rolbypassrls"
	role_sql app "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE" \
		"rolcanlogin AND NOT rolsuper AND NOT rolbypassrls AND NOT rolcreatedb AND NOT rolcreaterole"
	role_sql platform "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB" \
		"rolcanlogin AND NOT rolsuper AND NOT rolbypassrls AND NOT rolcreatedb"
	cat <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') AS missing,
       (SELECT pg_encoding_to_char(encoding) <> 'UTF8' FROM pg_database WHERE datname = 'template1') AS t1_not_utf8 \gset
\if :missing
\if :t1_not_utf8
CREATE DATABASE :"db" OWNER :"owner_role" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';
\else
CREATE DATABASE :"db" OWNER :"owner_role";
\endif
\echo created database :db
\else
SELECT pg_get_userbyid(datdba) <> :'owner_role' AS fix FROM pg_database WHERE datname = :'db' \gset
\if :fix
ALTER DATABASE :"db" OWNER TO :"owner_role";
\echo changed owner of database :db to :owner_role
\endif
\endif
SELECT EXISTS (SELECT 1 FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
               WHERE d.datname = :'db' AND a.grantee = 0) AS fix \gset
\if :fix
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
\echo revoked public access to database :db
\endif
SELECT NOT (has_database_privilege(:'app_role', :'db', 'CONNECT')
            AND has_database_privilege(:'platform_role', :'db', 'CONNECT')) AS fix \gset
\if :fix
GRANT CONNECT ON DATABASE :"db" TO :"app_role", :"platform_role";
\echo granted connect on database :db to :app_role, :platform_role
\endif
SELECT pg_encoding_to_char(encoding) <> 'UTF8' AS fix FROM pg_database WHERE datname = :'db' \gset
\if :fix
\echo WARNING: database :db does not use UTF8 encoding
\endif
\connect :"db"
SET client_min_messages = warning;
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') AS has_public \gset
\if :has_public
SELECT EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
               WHERE n.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'CREATE') AS fix \gset
\if :fix
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
\echo revoked create on schema public from public in :db
\endif
-- PostgreSQL < 15: public belongs to the bootstrap superuser; hand it to the
-- database owner the way PostgreSQL 15 does, so migrations can create there.
SELECT NOT has_schema_privilege(:'owner_role', 'public', 'CREATE') AS fix,
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_database_owner') AS has_pdo \gset
\if :fix
\if :has_pdo
ALTER SCHEMA public OWNER TO pg_database_owner;
\else
ALTER SCHEMA public OWNER TO :"owner_role";
\endif
\echo gave ownership of schema public in :db to its database owner
\endif
\endif
SQL
}

ensure_pg_roles_and_db() {
	detect_pg_superuser
	set_psql_vars
	# Which stored passwords are already right (so re-runs change nothing)?
	local -a pw_ok=(-v owner_pw_ok=off -v app_pw_ok=off -v platform_pw_ok=off)
	local name verifier key pw
	while IFS=$'\t' read -r name verifier; do
		case $name in
		"$OWNER_ROLE") key=owner pw=$OWNER_PW ;;
		"$APP_ROLE") key=app pw=$APP_PW ;;
		"$PLATFORM_ROLE") key=platform pw=$PLATFORM_PW ;;
		*) continue ;;
		esac
		if scram_matches "$verifier" "$pw"; then
			pw_ok+=(-v "${key}_pw_ok=on")
		fi
	done < <(printf '%s\n' "SELECT rolname, coalesce(rolpassword, '') FROM pg_authid WHERE rolname IN (:'owner_role', :'app_role', :'platform_role');" |
		pg_su -d postgres -At -F $'\t' "${PSQL_VARS[@]}")

	local out
	out=$(setup_sql | pg_su -d postgres "${PSQL_VARS[@]}" "${pw_ok[@]}" 2>&1) || {
		printf '%s\n' "$out" >&2
		die "setting up PostgreSQL roles and database failed"
	}
	if [[ -n $out ]]; then
		while IFS= read -r line; do say "postgresql: $line"; done <<<"$out"
	fi
}

# pg_login ROLE PASSWORD SQL: run SQL over TCP with password authentication.
pg_login() {
	PGPASSWORD=$2 PGCONNECT_TIMEOUT=5 psql -X -w -q -At \
		-d "host=127.0.0.1 port=$PG_PORT sslmode=disable user=$(conninfo_quote "$1") dbname=$(conninfo_quote "$PG_DB")" \
		-c "$3" </dev/null
}

all_logins_ok() {
	pg_login "$OWNER_ROLE" "$OWNER_PW" 'SELECT 1' >/dev/null 2>&1 &&
		pg_login "$APP_ROLE" "$APP_PW" 'SELECT 1' >/dev/null 2>&1 &&
		pg_login "$PLATFORM_ROLE" "$PLATFORM_PW" 'SELECT 1' >/dev/null 2>&1
}

HBA_MARKER='# epom: password login for the epom roles over TCP (added by scripts/services.sh)'
# hba_add_epom_lines FILE: insert scram-sha-256 lines for the epom roles before
# the first host* line of the pg_hba.conf FILE (append if there is none).
# Prints the new content to stdout; does not modify FILE.
hba_add_epom_lines() {
	awk -v marker="$HBA_MARKER" -v roles="$OWNER_ROLE,$APP_ROLE,$PLATFORM_ROLE" '
		function add() {
			printf "%s\n", marker
			printf "host    all             %s    127.0.0.1/32    scram-sha-256\n", roles
			printf "host    all             %s    ::1/128         scram-sha-256\n", roles
			done = 1
		}
		!done && $1 ~ /^host(ssl|nossl|gssenc|nogssenc)?$/ { add() }
		{ print }
		END { if (!done) add() }' "$1"
}

# hba_has_epom_lines FILE
hba_has_epom_lines() { grep -qxF "$HBA_MARKER" "$1"; }

ensure_pg_password_auth() {
	all_logins_ok && return 0

	local hba
	hba=$(pg_su -d postgres -Atc 'SHOW hba_file' </dev/null) || die "cannot read hba_file setting"
	require_root "edit $hba"
	as_root cat "$hba" >"$TMP/hba.orig" || die "cannot read $hba"
	if hba_has_epom_lines "$TMP/hba.orig"; then
		say "postgresql: $hba already has the epom lines; reloading"
	else
		say "postgresql: enabling scram-sha-256 login for epom roles in $hba"
		hba_add_epom_lines "$TMP/hba.orig" >"$TMP/hba.new"
		as_root test -e "$hba.epom-backup" || as_root cp -p "$hba" "$hba.epom-backup"
		as_root tee "$hba" <"$TMP/hba.new" >/dev/null # keeps owner and mode
		if [[ $(pg_su -d postgres -Atc 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL' </dev/null) != 0 ]]; then
			as_root tee "$hba" <"$TMP/hba.orig" >/dev/null
			die "the edited $hba has errors; restored the original"
		fi
	fi
	pg_su -d postgres -Atc 'SELECT pg_reload_conf()' </dev/null >/dev/null
	if ! wait_for 10 all_logins_ok; then
		local err
		err=$(pg_login "$APP_ROLE" "$APP_PW" 'SELECT 1' 2>&1 >/dev/null || true)
		die "password login as $APP_ROLE on 127.0.0.1:$PG_PORT still fails after editing $hba: ${err:-unknown error} (check the rules before the epom lines in that file)"
	fi
}

# verify_roles: log in as each role and check its attributes.
verify_roles() {
	local role pw want got ok=0
	for role in "$OWNER_ROLE" "$APP_ROLE" "$PLATFORM_ROLE"; do
		case $role in
		"$OWNER_ROLE") pw=$OWNER_PW want='f|f|t|?' ;;
		"$APP_ROLE") pw=$APP_PW want='f|f|f|f' ;;
		*) pw=$PLATFORM_PW want='f|f|f|?' ;;
		esac
		# superuser|bypassrls|createdb|createrole
		if got=$(pg_login "$role" "$pw" "SELECT concat_ws('|', rolsuper, rolbypassrls, rolcreatedb, rolcreaterole) FROM pg_roles WHERE rolname = current_user" 2>&1); then
			# shellcheck disable=SC2053 # $want is a glob pattern
			if [[ ${got//true/t} == $want ]]; then
				report "postgresql: $role can log in to $PG_DB with its password; attributes ok"
			else
				report "postgresql: $role has wrong attributes (superuser|bypassrls|createdb|createrole = $got)"
				ok=1
			fi
		else
			report "postgresql: $role cannot log in to $PG_DB on 127.0.0.1:$PG_PORT: ${got//$'\n'/ }"
			ok=1
		fi
	done
	return $ok
}

# ---------------------------------------------------------------------------
# Redis

redis_ping() {
	[[ $(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# writable_dir DIR: create DIR if needed; succeed if the current user can write it.
writable_dir() { { [[ -d $1 ]] || mkdir -p "$1" 2>/dev/null; } && [[ -w $1 ]]; }

ensure_redis() {
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		apt_install redis-server
	fi
	redis_ping && return 0
	port_open "$REDIS_PORT" &&
		die "something listens on 127.0.0.1:$REDIS_PORT but does not answer PING with PONG (a Redis with a password?); stop it or set EPOM_REDIS_PORT"

	local data_dir=/var/lib/redis log_dir=/var/log/redis log_file
	if ! writable_dir "$data_dir"; then
		data_dir=${TMPDIR:-/tmp}/epom-redis-$(id -u)
		writable_dir "$data_dir" || die "cannot create a data directory for Redis ($data_dir)"
	fi
	log_file=$log_dir/epom.log
	if ! writable_dir "$log_dir" || { [[ -e $log_file ]] && [[ ! -w $log_file ]]; }; then
		log_file=$data_dir/epom.log
	fi
	say "starting redis-server on 127.0.0.1:$REDIS_PORT (log: $log_file)"
	run_logged "redis-server" redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
		--save "" --appendonly no --dir "$data_dir" --logfile "$log_file" \
		--pidfile "$data_dir/epom-redis-$REDIS_PORT.pid"
	if ! wait_for "$REDIS_WAIT_SECONDS" redis_ping; then
		tail -n 20 "$log_file" >&2 2>/dev/null || true
		die "redis-server on 127.0.0.1:$REDIS_PORT does not answer PING after ${REDIS_WAIT_SECONDS}s (log: $log_file)"
	fi
}

# ---------------------------------------------------------------------------
# Chromium (for browser tests)

chromium_version() { chromium --version 2>/dev/null | head -n 1; }

ensure_browser() {
	command -v chromium >/dev/null 2>&1 || apt_install chromium
	local v
	v=$(chromium_version) || true
	[[ -n $v ]] || die "chromium is installed but 'chromium --version' fails"
	say "browser: $v"
}

# ---------------------------------------------------------------------------
# --check

report() { printf 'services: %s\n' "$*"; }

check() {
	local missing=0 line
	if pg_installed; then
		report "postgresql: server $(pg_newest_server_version) and client tools installed"
		local ver="" name="" status=""
		read -r ver name status < <(pg_cluster_on_port) || true
		if [[ -n $ver ]]; then
			report "postgresql: cluster $ver/$name for port $PG_PORT is $status"
		else
			report "postgresql: no cluster configured for port $PG_PORT"
			while IFS= read -r line; do report "postgresql:   $line"; done < <(pg_lsclusters 2>/dev/null)
			missing=1
		fi
		if pg_tcp_ready; then
			report "postgresql: accepting connections on 127.0.0.1:$PG_PORT"
			verify_roles || missing=1
		else
			report "postgresql: not accepting connections on 127.0.0.1:$PG_PORT"
			missing=1
		fi
	else
		report "postgresql: not installed (psql, pg_ctlcluster or server binaries missing)"
		missing=1
	fi

	if command -v redis-server >/dev/null 2>&1; then
		report "redis: $(redis-server --version | head -n 1)"
		if command -v redis-cli >/dev/null 2>&1 && redis_ping; then
			report "redis: 127.0.0.1:$REDIS_PORT answers PONG"
		else
			report "redis: nothing answers PING on 127.0.0.1:$REDIS_PORT"
			missing=1
		fi
	else
		report "redis: redis-server not installed"
		missing=1
	fi

	if command -v chromium >/dev/null 2>&1; then
		report "browser: $(chromium_version || echo 'chromium (version unknown)')"
	else
		report "browser: chromium not installed"
		((WANT_BROWSER)) && missing=1
	fi
	return $missing
}

# ---------------------------------------------------------------------------

print_dsns() {
	local q
	q="127.0.0.1:$PG_PORT/$(urlencode "$PG_DB")?sslmode=disable"
	printf 'EPOM_DATABASE_URL=postgres://%s:%s@%s\n' "$APP_ROLE" "$(urlencode "$APP_PW")" "$q"
	printf 'EPOM_PLATFORM_DATABASE_URL=postgres://%s:%s@%s\n' "$PLATFORM_ROLE" "$(urlencode "$PLATFORM_PW")" "$q"
	printf 'EPOM_OWNER_DATABASE_URL=postgres://%s:%s@%s\n' "$OWNER_ROLE" "$(urlencode "$OWNER_PW")" "$q"
	printf 'EPOM_REDIS_URL=redis://127.0.0.1:%s/0\n' "$REDIS_PORT"
}

main() {
	if [[ $MODE == check ]]; then
		check
		return
	fi
	ensure_pg_server
	ensure_pg_roles_and_db
	ensure_pg_password_auth
	verify_roles >/dev/null || {
		verify_roles >&2 || true
		die "PostgreSQL roles are not usable as configured"
	}
	ensure_redis
	((WANT_BROWSER)) && ensure_browser
	print_dsns
}

main
