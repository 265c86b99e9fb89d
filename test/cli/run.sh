#!/bin/bash
#
# test/cli/run.sh - tests of the sbundle command-line tool
#
# Usage, from the repository root:
#   test/cli/run.sh [path-to-sbundle]      (default: ./sbundle)
#
# Prints TAP lines ("ok N - ...", "not ok N - ...") and exits non-zero if
# any test failed.  The checks against a real PostgreSQL server need
# pg_virtualenv (postgresql-common), python3 and the pageinspect extension
# (in postgresql-15 on Debian); without them each of those checks is
# reported as skipped ("ok N # skip ..."), with the reason.
#
# shellcheck disable=SC2317  # helpers are called through check()
set -u

SB=${1:-./sbundle}
case $SB in
  /*) ;;
  *) SB=$PWD/$SB ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$SB" ]; then
  echo "Bail out! $SB is not an executable (run \"make sbundle\" first)"
  exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sbundle-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 2
export LC_ALL=C.UTF-8

ntests=0
nfailed=0
nskipped=0

# ok STATUS DESCRIPTION: report a test that passed if STATUS is 0.
ok() {
  ntests=$((ntests + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $ntests - $2"
  else
    echo "not ok $ntests - $2"
    nfailed=$((nfailed + 1))
  fi
}

# check DESCRIPTION COMMAND...: a test that passes if COMMAND succeeds.
check() {
  local desc=$1
  shift
  "$@"
  ok $? "$desc"
}

# skip REASON: a skipped test.
skip() {
  ntests=$((ntests + 1))
  nskipped=$((nskipped + 1))
  echo "ok $ntests # skip $1"
}

# section NAME: start a group of tests (a TAP comment with the time so far).
section() {
  echo "# $1 (at ${SECONDS}s)"
}

# diag TEXT...: a TAP comment.
diag() {
  echo "# $*"
}

# run COMMAND...: run it, keeping stdout in "out", stderr in "err", the
# exit status in $rc.
run() {
  "$@" >out 2>err
  rc=$?
}

# quietly COMMAND...: run it without its standard output.
quietly() {
  "$@" >/dev/null
}

# count_files PATTERN: how many files match the glob PATTERN.
count_files() {
  local n=0 f
  for f in $1; do
    [ -e "$f" ] && n=$((n + 1))
  done
  echo $n
}

# same FILE1 FILE2: are the files byte for byte equal?  Shows a diff if not.
same() {
  if cmp -s "$1" "$2"; then
    return 0
  fi
  diff "$1" "$2" | head -20 | sed 's/^/# /'
  return 1
}

# fails_with STATUS PATTERN DESCRIPTION COMMAND...: the command must exit
# with STATUS and print a message matching PATTERN (grep -E) on stderr.
fails_with() {
  local status=$1 pattern=$2 desc=$3
  shift 3
  run "$@"
  if [ "$rc" -eq "$status" ] && grep -Eq -- "$pattern" err; then
    ok 0 "$desc"
  else
    ok 1 "$desc"
    diag "exit status $rc (wanted $status); stderr:"
    sed 's/^/#   /' err | head -5
  fi
}

# roundtrip DESCRIPTION SCHEMA KEY CSV [BUILD OPTION...]: building CSV
# and dumping it must give the same bytes, and the bundle must verify.
roundtrip() {
  local desc=$1 schema=$2 key=$3 csv=$4
  shift 4
  rm -f rt.sb
  if ! "$SB" build --schema "$schema" --key "$key" "$@" rt.sb "$csv" 2>err; then
    ok 1 "$desc"
    sed 's/^/#   /' err | head -5
    return
  fi
  "$SB" dump rt.sb >rt.out 2>err && "$SB" verify rt.sb >/dev/null 2>>err &&
    same "$csv" rt.out
  ok $? "$desc"
}

# no_leftovers: no temporary build files are left in the work directory.
no_leftovers() {
  [ "$(count_files './*.tmp.*')" -eq 0 ]
}

###########################################################################
# Help and usage
###########################################################################

section "Help and usage"

run "$SB" --help
check "sbundle --help exits 0 and lists the commands" \
  test "$rc" -eq 0 -a "$(grep -Ec '^  (build|info|verify|get|dump) ' out)" -eq 5
check "sbundle --help documents the exit statuses" grep -q "2  usage error" out
for cmd in build info verify get dump; do
  run "$SB" "$cmd" --help
  check "sbundle $cmd --help exits 0 with a usage" \
    test "$rc" -eq 0 -a -n "$(grep "^  sbundle $cmd" out)"
done
fails_with 2 'no command given' "no command is a usage error" "$SB"
fails_with 2 'unknown command "frobnicate"' "an unknown command is a usage error" \
  "$SB" frobnicate
fails_with 2 'unrecognized option "--bogus"' "an unknown option is a usage error" \
  "$SB" build --bogus
fails_with 2 'option "--schema" requires an argument' "a missing option argument" \
  "$SB" build --schema

###########################################################################
# Round trips of every type, with NULLs and extreme values
###########################################################################

section "Round trips of every type, with NULLs and extreme values"

printf '%s\n' 1,-32768,-2147483648,-9223372036854775808 \
  2,32767,2147483647,9223372036854775807 3,0,0,0 4,,, 5,-1,-1,-1 \
  ,1,1,1 >ints.csv
roundtrip "int2, int4, int8: limits, zero and NULLs" \
  'id:int4,a:smallint,b:integer,c:bigint' id ints.csv

printf '%s\n' 1,NaN,NaN 2,Infinity,Infinity 3,-Infinity,-Infinity 4,-0,-0 \
  5,0,0 6,1e-45,5e-324 7,1.1754944e-38,2.2250738585072014e-308 \
  8,3.4028235e+38,1.7976931348623157e+308 9,0.1,0.1 10,1e+06,1e+15 \
  11,100000,100000000000000 12,1.5e-07,1.5e-07 13,0.0001,0.0001 \
  14,1e-05,1e-05 15,-123.456,-123.456 16,1.2345679e+08,1.2345678901234568e+17 \
  17,, 18,1.6777216e+07,9.007199254740992e+15 19,3.4e-44,4.9407e-320 \
  20,0.33333334,0.3333333333333333 >floats.csv
roundtrip "float4, float8: NaN, infinities, -0, denormals, limits, exponents" \
  'id:int4,a:real,b:double precision' id floats.csv

printf '%s\n' 1,t 2,f 3, >bools.csv
roundtrip "bool: t, f, NULL" 'id:int4,b:boolean' id bools.csv

{
  printf '1,plain\n'
  printf '2,""\n'
  printf '3,\n'
  printf '4,"a,b"\n'
  printf '5,"say ""hi"""\n'
  printf '6,"line1\nline2"\n'
  printf '7,"cr\rhere"\n'
  printf '8,"\r\n"\n'
  printf '9,héllo wörld 日本語 🎉\n'
  printf '10, leading and trailing \n'
  printf '11,\\.\n'
  printf '12,back\\slash\n'
  printf '13,""""\n'
  printf '14,%s\n' "$(printf 'x%.0s' $(seq 126))"
  printf '15,%s\n' "$(printf 'y%.0s' $(seq 127))"
  printf '16,%s\n' "$(printf 'z%.0s' $(seq 5000))"
  printf '17,NULL\n'
  printf '18,"a\n\nb"\n'
} >texts.csv
roundtrip "text: empty, NULL, quotes, commas, CR, LF, UTF-8, long values" \
  'id:int4,t:text' id texts.csv
printf '%s\n' plain,1 '"",2' ',3' '"a,b",4' 'héllo 日本語 🎉,5' '"x""y",6' >textkey.csv
roundtrip "text as the key column" 't:text,id:int4' t textkey.csv
printf '%s\n' '1,\x' '2,\x00ff' '3,' '4,\x0a0d2c22' \
  "5,\\x$(printf '%02x' $(seq 0 255))" >byteas.csv
roundtrip "bytea: empty, NULL, every byte value" 'id:int4,b:bytea' id byteas.csv

printf '%s\n' '1,4714-11-24 BC' '2,5874897-12-31' '3,infinity' '4,-infinity' \
  '5,2000-01-01' '6,1970-01-01' '7,0001-01-01' '8,0001-12-31 BC' \
  '9,2000-02-29' '10,' '11,9999-12-31' '12,10000-01-01' '13,0044-03-15 BC' >dates.csv
roundtrip "date: limits, infinities, BC, leap day, NULL" 'id:int4,d:date' id dates.csv

printf '%s\n' '1,4714-11-24 00:00:00 BC' '2,294276-12-31 23:59:59.999999' \
  '3,infinity' '4,-infinity' '5,2000-01-01 00:00:00' '6,2000-01-01 00:00:00.5' \
  '7,1999-12-31 23:59:59.000001' '8,1970-01-01 00:00:00' '9,' \
  '10,0001-12-31 23:59:59.12 BC' '11,2000-02-29 12:34:56.789' >ts.csv
roundtrip "timestamp: limits, infinities, fractions, BC, NULL" \
  'id:int4,t:timestamp' id ts.csv
sed -e 's/^\([0-9]*,[0-9][^B]*[0-9]\)\( BC\)\{0,1\}$/\1+00\2/' ts.csv >tstz.csv
roundtrip "timestamptz: limits, infinities, fractions, BC, NULL" \
  'id:int4,t:timestamptz' id tstz.csv

printf '%s\n' 1,00000000-0000-0000-0000-000000000000 \
  2,ffffffff-ffff-ffff-ffff-ffffffffffff 3,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 \
  4, >uuids.csv
roundtrip "uuid: zero, all ones, NULL" 'id:int4,u:uuid' id uuids.csv

# every type in one bundle, keyed on each type in turn
paste -d, ints.csv <(cut -d, -f2- floats.csv | head -6) bools.csv \
  <(cut -d, -f2 byteas.csv | head -6) <(cut -d, -f2 dates.csv | head -6) \
  <(cut -d, -f2 ts.csv | head -6) <(cut -d, -f2 tstz.csv | head -6) \
  <(cut -d, -f2 uuids.csv | head -6) 2>/dev/null | head -3 >all.csv
ALL='id:int4,a:int2,b:int4,c:int8,f4:float4,f8:float8,bid:int4,b1:bool,by:bytea,d:date,ts:timestamp,tz:timestamptz,u:uuid'
for key in a b c f4 f8 b1 by d ts tz u; do
  roundtrip "all types in one bundle, keyed on $key" "$ALL" "$key" all.csv
done

###########################################################################
# Input in other spellings reads as PostgreSQL reads it
###########################################################################

section "Input in other spellings reads as PostgreSQL reads it"

# normalizes SCHEMA INPUT EXPECTED DESCRIPTION: "INPUT" (one CSV field per
# line) builds to a bundle that dumps as EXPECTED.
normalizes() {
  rm -f n.sb
  printf '%s\n' "$2" >n.csv
  printf '%s\n' "$3" >n.exp
  "$SB" build --schema "v:$1" --key v n.sb n.csv 2>err && "$SB" dump n.sb >n.out &&
    same n.exp n.out
  ok $? "$4"
}
normalizes int4 $' 12 \n+7\n-0' $'12\n7\n0' "integers: blanks and signs"
normalizes bool $'TRUE\nyes\non\n1\n f \nNo\nOFF\n0\ntr' $'t\nt\nt\nt\nf\nf\nf\nf\nt' \
  "bool: PostgreSQL's spellings"
normalizes float8 $'1e20\n1.5e-7\n  -2.50  \ninf\n-INFINITY\nnan\n1E+15\n123456789012345678' \
  $'1e+20\n1.5e-07\n-2.5\nInfinity\n-Infinity\nNaN\n1e+15\n1.2345678901234568e+17' \
  "float8: exponents, blanks, special spellings"
normalizes float4 $'1000000\n0.1\n16777217\n1e-45' $'1e+06\n0.1\n1.6777216e+07\n1e-45' \
  "float4: rounding to float and shortest output"
normalizes bytea $'\\x0A0B\nab\\001\\\\\n\\x 01 02' $'\\x0a0b\n\\x6162015c\n\\x0102' \
  "bytea: hex digits in any case, escape format, blanks"
normalizes uuid $'{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}\na0eebc999c0b4ef8bb6d6bb9bd380a11' \
  $'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\na0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' \
  "uuid: braces, upper case, no hyphens"
normalizes date $' 2000-1-2 \nepoch\n2000-01-01 12:34\nINFINITY\n0044-03-15 bc' \
  $'2000-01-02\n1970-01-01\n2000-01-01\ninfinity\n0044-03-15 BC' \
  "date: short fields, epoch, a time part, case"
normalizes timestamp $'2000-01-01T12:00\n2000-01-01 24:00:00\n2000-01-01 12:00:00.9999999\n2000-01-01 12:00:00+02\n2000-1-1 1:2:3' \
  $'2000-01-01 12:00:00\n2000-01-02 00:00:00\n2000-01-01 12:00:01\n2000-01-01 12:00:00\n2000-01-01 01:02:03' \
  "timestamp: T, 24:00, rounding of fractions, zones ignored"
normalizes timestamptz $'2000-01-01 12:00:00+02\n2000-01-01 12:00:00-05:30\n2000-01-01T12:00:00Z\n2000-01-01 12:00:00 +0530\n1999-12-31 23:59:59.999999 +15:59:59\n2000-01-01 12:00:00 UTC\n2000-01-01 00:30' \
  $'2000-01-01 10:00:00+00\n2000-01-01 17:30:00+00\n2000-01-01 12:00:00+00\n2000-01-01 06:30:00+00\n1999-12-31 08:00:00.999999+00\n2000-01-01 12:00:00+00\n2000-01-01 00:30:00+00' \
  "timestamptz: offsets converted to UTC"

###########################################################################
# CSV dialect
###########################################################################

section "CSV dialect"

rm -f h.sb
printf 'id,"na,me"\n1,a\n2,b\n' >h.csv
"$SB" build --header --schema 'id:int4,na,me:text' --key id h.sb h.csv 2>err
check "a schema entry without a type is refused" grep -q 'expected name:type' err
"$SB" build --header --schema 'id:int4,name:text' --key id h.sb h.csv 2>err &&
  "$SB" dump h.sb >h.out && printf '1,a\n2,b\n' | same - h.out
ok $? "--header skips the first line"
"$SB" dump --header h.sb >h.out && printf 'id,name\n1,a\n2,b\n' | same - h.out
ok $? "dump --header prints the column names"

rm -f crlf.sb
printf '1,a\r\n2,"b\r\nc"\r\n3,\r\n' >crlf.csv
"$SB" build --schema 'id:int4,t:text' --key id crlf.sb crlf.csv 2>err &&
  "$SB" dump crlf.sb >crlf.out && printf '1,a\n2,"b\r\nc"\n3,\n' | same - crlf.out
ok $? "CRLF line endings are read, quoted CR LF is data"

rm -f eod.sb
printf '1\n\\.\n2\n' >eod.csv
"$SB" build --schema 'id:int4' --key id eod.sb eod.csv && "$SB" dump eod.sb >eod.out &&
  printf '1\n' | same - eod.out
ok $? "a line holding only \\. ends the data"
rm -f single.sb
printf '"\\."\n""\n\n' >single.csv
roundtrip "a single text column: \\. and the empty string are quoted" 't:text' t single.csv

rm -f nonl.sb
printf '1,a' | "$SB" build --schema 'id:int4,t:text' --key id nonl.sb - &&
  "$SB" dump nonl.sb >nonl.out && printf '1,a\n' | same - nonl.out
ok $? "standard input, last line without a newline"
rm -f empty.sb
: >empty.csv
"$SB" build --schema 'id:int4' --key id empty.sb empty.csv && "$SB" dump empty.sb >empty.out &&
  test ! -s empty.out && "$SB" verify empty.sb >/dev/null
ok $? "an empty input gives an empty, valid bundle"
rm -f qmid.sb
printf '1,ab"c,d"e\n' | "$SB" build --schema 'id:int4,t:text' --key id qmid.sb - &&
  "$SB" dump qmid.sb >qmid.out && printf '1,"abc,de"\n' | same - qmid.out
ok $? "quotes in the middle of a field, as COPY reads them"

###########################################################################
# info, verify, metadata
###########################################################################

section "info, verify, metadata"

rm -f m.sb
"$SB" build --schema 'id:int4,name:text' --key id --meta 'query=select 1' \
  --meta owner=me m.sb h.csv --header 2>err
run "$SB" info m.sb
check "info exits 0" test "$rc" -eq 0
for pattern in 'format version: +5\.0' 'PostgreSQL major: +[0-9]+' \
  'build time: +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' \
  'rows: +2$' 'file size: +[0-9]+ bytes' 'pg_catalog\.int4 +-1 +4 +t +i +datum +1 +integer' \
  'pg_catalog\.text +-1 +-1 +f +i +datum +- +-' 'kind: +lines' \
  'lines: +1 \(1 home lines of 64 bytes\)' 'fingerprint bytes: +2$' \
  'entries: +2$' 'distinct keys: +2$' 'longest run: +1 lines' 'bytes per key: +32\.00' \
  '^  (schema|rows|heap|entries|metadata) ' 'query = select 1' \
  'owner = me' 'tool = sbundle' 'source = h\.csv'; do
  check "info shows /$pattern/" grep -Eq -- "$pattern" out
done
run "$SB" verify m.sb
check "verify of a good bundle: exit 0, \"FILE: ok\"" test "$rc" -eq 0 -a "$(cat out)" = "m.sb: ok"
fails_with 2 'metadata key "tool" is reserved' "--meta may not set tool" \
  "$SB" build --schema 'id:int4' --key id --meta tool=x m2.sb empty.csv
fails_with 2 'expected KEY=VALUE' "--meta needs KEY=VALUE" \
  "$SB" build --schema 'id:int4' --key id --meta novalue m2.sb empty.csv

###########################################################################
# A large bundle: get finds every key
###########################################################################

section "A large bundle: get finds every key"

awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "%d,name %d,%d.5\n", i * 7, i, i % 1000 }' >big.csv
rm -f big.sb bigt.sb bigm.sb bigh.sb
check "build 100000 rows" "$SB" build --schema 'id:int8,name:text,v:float8' --key id big.sb big.csv
cut -d, -f1 big.csv | xargs "$SB" get big.sb >big.out 2>err
check "get finds each of 100000 integer keys" same big.csv big.out
cut -d, -f2 big.csv >bigt.keys
"$SB" build --schema 'id:int8,name:text,v:float8' --key name bigt.sb big.csv &&
  tr '\n' '\0' <bigt.keys | xargs -0 "$SB" get bigt.sb >bigt.out
check "get finds each of 100000 text keys" same big.csv bigt.out
run "$SB" get big.sb 1 2 3 6 700001 -- -7
check "get of absent keys prints nothing and exits 0" test "$rc" -eq 0 -a ! -s out
check "info shows the line index" grep -q 'kind: *lines' <("$SB" info big.sb)
"$SB" build --memory 1 --schema 'id:int8,name:text,v:float8' --key id bigm.sb big.csv &&
  cut -d, -f1 big.csv | xargs "$SB" get bigm.sb >bigm.out
check "--memory 1 (index sorted in spilled runs): get finds every key" same big.csv bigm.out
"$SB" build --inline 0 --schema 'id:int8,name:text,v:float8' --key id \
  bigh.sb big.csv && cut -d, -f1 big.csv | xargs "$SB" get bigh.sb >bigh.out
check "--inline 0 (every value in the heap): get finds every key" same big.csv bigh.out
check "--inline 0 writes format 5.0 too" grep -q 'format version: *5\.0' <("$SB" info bigh.sb)
check "the default (compact encodings) writes format 5.0" grep -q 'format version: *5\.0' <("$SB" info big.sb)
"$SB" build --no-compact --schema 'id:int8,name:text,v:float8' --key id bign.sb big.csv
check "--no-compact writes format 3.0" grep -q 'format version: *3\.0' <("$SB" info bign.sb)
check "--no-compact: info shows no encodings" bash -c "! '$SB' info bign.sb | grep -q encodings"
check "compact bundles are smaller" test "$(stat -c %s big.sb)" -lt "$(stat -c %s bign.sb)"

# Compact encodings: integers at the edges of their ranges, negative
# values, NULLs, empty strings, symbol-coded text, a column that is
# not worth encoding
awk 'BEGIN {
  srand(7);
  for (i = 1; i <= 3000; i++) {
    s = ""; n = i % 50 == 0 ? 0 : 20 + i % 30;
    for (j = 0; j < n; j++) s = s substr("0123456789abcdef", int(rand() * 16) + 1, 1);
    printf "%d,%d,%s,%s,%s,%s,%d\n", 1000000 + i, (i % 2 ? -32768 + i % 200 : -32518),
      (i % 13 == 2 ? "" : -i * 1000), (i % 2 ? "9223372036854775807" : "-9223372036854775808"),
      (s == "" ? "\"\"" : s), (i % 17 == 3 ? "" : "x" i), i % 2 ? 2147483647 : -2147483648
  } }' >enc.csv
check "build a compact bundle" "$SB" build \
  --schema 'k:int8,small:int2,neg:int8,full:int8,hex:text,t:text,i:int4' --key k enc.sb enc.csv
check "build it with --no-compact" "$SB" build --no-compact \
  --schema 'k:int8,small:int2,neg:int8,full:int8,hex:text,t:text,i:int4' --key k encn.sb enc.csv
run "$SB" info enc.sb
for pattern in '^encodings:' ' 1  offset +2  base 1000001$' ' 2  offset +1  base -32767$' \
               ' 3  offset +3  base -3000000$' ' 4  none +8$' ' 5  symbols +4  [0-9]+ symbols$' \
               ' 7  none +4$'; do
  check "info of a compact bundle shows /$pattern/" grep -Eq -- "$pattern" out
done
check "verify a compact bundle" "$SB" verify enc.sb
"$SB" dump enc.sb >enc.out
check "dump of a compact bundle reproduces the input" same enc.csv enc.out
"$SB" dump --images enc.sb >enc.img
"$SB" dump --images encn.sb >encn.img
check "dump --images shows the same datum images as without encodings" same encn.img enc.img
"$SB" get enc.sb 1000001 1000050 1003000 >enc.get
grep -E '^100(0001|3000|0050),' enc.csv >enc.want
check "get finds keys stored as offsets" same enc.want enc.get
"$SB" build --schema 'hex:text,k:int8' --key hex enct.sb <(cut -d, -f1,5 enc.csv |
  awk -F, '$2 != "\"\"" { print $2 "," $1 }')
run "$SB" get enct.sb "$(sed -n 7p enc.csv | cut -d, -f5)"
check "get finds a symbol-coded text key" grep -q "^[0-9a-f]*,1000007$" out

check "verify the 100000-row bundles" quietly "$SB" verify big.sb bigt.sb bigm.sb bigh.sb
"$SB" dump big.sb >bigd.out
check "dump of 100000 rows reproduces the input" same big.csv bigd.out

###########################################################################
# Duplicate keys, composite keys, approximate bundles, dedup
###########################################################################

section "Duplicate keys, composite keys, approximate bundles, dedup"

printf '%s\n' 1,a 2,b 1,c 3,d 1,e ,f 2,g >dup.csv
rm -f dup.sb
"$SB" build --schema 'k:int4,v:text' --key k dup.sb dup.csv
"$SB" get dup.sb 1 >dup.out && printf '1,a\n1,c\n1,e\n' | same - dup.out
ok $? "duplicate keys: get returns every row, in row order"
"$SB" get --header dup.sb 2 3 >dup.out && printf 'k,v\n2,b\n2,g\n3,d\n' | same - dup.out
ok $? "get with several keys and --header"
check "a NULL key is stored but not indexed" grep -q 'entries: *6$' <("$SB" info dup.sb)

cat >comp.csv <<'EOF'
42,abc,2000-01-01,x
42,abd,2000-01-01,y
42,"a,b",2000-01-02,z
7,abc,2000-01-01,w
42,abc,2000-01-01,v
42,,2000-01-01,u
EOF
rm -f comp.sb
"$SB" build --schema 'a:int4,b:text,d:date,v:text' --key a --key b comp.sb comp.csv
"$SB" get comp.sb '42,abc' >comp.out &&
  printf '42,abc,2000-01-01,x\n42,abc,2000-01-01,v\n' | same - comp.out
ok $? "composite key: get '42,abc'"
"$SB" get comp.sb '42,"a,b"' ' 7,abc' >comp.out &&
  printf '42,"a,b",2000-01-02,z\n7,abc,2000-01-01,w\n' | same - comp.out
ok $? "composite key: a quoted part with a comma; blanks around an integer"
run "$SB" get comp.sb '42,'
check "composite key: a NULL part matches nothing" test "$rc" -eq 0 -a ! -s out
fails_with 2 'has 1 value, but the bundle.s key has 2 columns' \
  "composite key: too few parts" "$SB" get comp.sb 42
fails_with 2 'invalid key for column "a": invalid input syntax for type integer: "x"' \
  "composite key: a part that does not parse" "$SB" get comp.sb 'x,abc'
rm -f comp3.sb
"$SB" build --schema 'a:int4,b:text,d:date,v:text' --key d --key a --key b comp3.sb comp.csv &&
  "$SB" get comp3.sb '2000-01-01,42,abc' >comp.out &&
  printf '42,abc,2000-01-01,x\n42,abc,2000-01-01,v\n' | same - comp.out
ok $? "composite key of three columns, in key order"

rm -f approx.sb
"$SB" build --approximate --schema 'k:int4,v:text' --key k approx.sb dup.csv
"$SB" dump approx.sb >approx.out && printf ',a\n,b\n,c\n,d\n,e\n,f\n,g\n' | same - approx.out
ok $? "approximate: key columns are not stored (dump shows NULL)"
"$SB" get approx.sb 1 >approx.out && printf ',a\n,c\n,e\n' | same - approx.out
ok $? "approximate: get finds rows by the key's hash"
check "approximate: verify" quietly "$SB" verify approx.sb
check "approximate: info says so" grep -q 'approximate: *yes' <("$SB" info approx.sb)
rm -f acomp.sb
"$SB" build --approximate --schema 'a:int4,b:text,d:date,v:text' --key a --key b acomp.sb comp.csv &&
  "$SB" get acomp.sb '42,abc' >comp.out && printf ',,2000-01-01,x\n,,2000-01-01,v\n' | same - comp.out
ok $? "approximate composite key"

awk 'BEGIN { for (i = 1; i <= 2000; i++) printf "%d,%s\n", i, (i % 2 ? "same long value stored once with dedup" : "another repeated value") }' >dd.csv
rm -f dd1.sb dd2.sb
"$SB" build --schema 'k:int4,v:text' --key k dd1.sb dd.csv &&
  "$SB" build --no-dedup --schema 'k:int4,v:text' --key k dd2.sb dd.csv &&
  "$SB" dump dd2.sb | same dd.csv - && "$SB" verify dd1.sb dd2.sb >/dev/null &&
  [ "$(stat -c %s dd1.sb)" -lt "$(stat -c %s dd2.sb)" ]
ok $? "--no-dedup stores repeated values again (bigger file, same rows)"

###########################################################################
# Damaged bundles: verify reports them (exit 1), nothing crashes
###########################################################################

section "Damaged bundles: verify reports them (exit 1), nothing crashes"

rm -f good.sb
"$SB" build --schema 'id:int4,t:text,f:float8' --key id --meta q=x good.sb \
  <(printf '1,one,1.5\n2,two,\n3,,2.5\n4,"four, quoted",-0\n') 2>err
size=$(stat -c %s good.sb)
crashed=0
cuts="0 1 8 100 127 128 $((size / 2)) $((size - 1))"
for cut in $cuts; do
  head -c "$cut" good.sb >"trunc$cut.sb"
  for cmd in info dump; do
    "$SB" "$cmd" "trunc$cut.sb" >/dev/null 2>&1
    [ $? -lt 128 ] || crashed=$((crashed + 1))
  done
done
run "$SB" verify trunc*.sb
check "truncated copies: verify exits 1 with a message for each" \
  test "$rc" -eq 1 -a ! -s out -a "$(wc -l <err)" -eq "$(echo "$cuts" | wc -w)"
check "truncated copies: info and dump do not crash" test $crashed -eq 0
{ cat good.sb; printf 'x'; } >long.sb
fails_with 1 'corrupt' "a bundle with bytes after its end is refused" "$SB" verify long.sb

# flip every byte in turn: verify must report each copy (one run checks
# them all); the other commands must not crash on a sample of them
python3 - "$size" <<'EOF'
import sys
data = open("good.sb", "rb").read()
for i in range(int(sys.argv[1])):
    d = bytearray(data)
    d[i] ^= 0xFF
    open("flip%05d.sb" % i, "wb").write(d)
EOF
run "$SB" verify flip*.sb
check "each of $size flipped bytes: verify exits 1 with a message for each copy" \
  test "$rc" -eq 1 -a ! -s out -a "$(wc -l <err)" -eq "$size"
crashed=0
for i in $(seq 0 $((size / 25)) $((size - 1))); do
  f=$(printf 'flip%05d.sb' "$i")
  for cmd in "info $f" "dump $f" "dump --images $f" "get $f 1 2 3 4"; do
    # shellcheck disable=SC2086
    "$SB" $cmd >/dev/null 2>&1
    [ $? -lt 128 ] || { crashed=$((crashed + 1)); diag "crash: sbundle $cmd"; }
  done
done
check "flipped bytes: info, dump and get do not crash" test $crashed -eq 0
rm -f flip*.sb
printf 'this is not a bundle, just some text that is long enough to hold a header......................................................................\n' >text.sb
fails_with 1 'not a bundle file' "a text file is not a bundle" "$SB" verify text.sb
fails_with 2 'could not open file "missing.sb": No such file or directory' \
  "verify of a missing file: exit 2" "$SB" verify missing.sb
fails_with 2 'not a regular file' "verify of a directory: exit 2" "$SB" verify .
run "$SB" verify good.sb text.sb
check "verify of several files: the worst status" test "$rc" -eq 1 -a "$(cat out)" = "good.sb: ok"

###########################################################################
# Error paths of build
###########################################################################

section "Error paths of build"

B=("$SB" build)
printf '1,a\n2,b\nx,c\n4,d\n' >badval.csv
fails_with 1 '^sbundle: line 3, column "id": invalid input syntax for type integer: "x"$' \
  "a bad value: exit 1, line number and column" "${B[@]}" --schema 'id:int4,t:text' --key id bv.sb badval.csv
check "a failed build leaves no output file" test ! -e bv.sb
check "a failed build leaves no temporary file" no_leftovers
fails_with 2 'invalid schema entry "idint4": expected name:type' "a schema entry without a colon" \
  "${B[@]}" --schema 'idint4' --key id e.sb empty.csv
fails_with 2 'invalid schema entry "int4": the column name is empty' "an empty column name" \
  "${B[@]}" --schema ':int4' --key id e.sb empty.csv
fails_with 2 'type "numeric" of column "n" is not supported' "an unknown type" \
  "${B[@]}" --schema 'id:int4,n:numeric' --key id e.sb empty.csv
fails_with 2 'type "" of column "n" is not supported' "an empty type" \
  "${B[@]}" --schema 'id:int4,n:' --key id e.sb empty.csv
fails_with 2 'column "id" specified more than once' "a duplicate column" \
  "${B[@]}" --schema 'id:int4,id:text' --key id e.sb empty.csv
fails_with 2 'too long' "a column name over 63 bytes" \
  "${B[@]}" --schema "$(printf 'c%.0s' $(seq 64)):int4" --key id e.sb empty.csv
fails_with 2 'key column "nope" does not exist' "a key column not in the schema" \
  "${B[@]}" --schema 'id:int4' --key nope e.sb empty.csv
fails_with 2 'no key column given' "no key column" \
  "${B[@]}" --schema 'id:int4' e.sb empty.csv
fails_with 2 'key column "id" specified more than once' "a key column twice" \
  "${B[@]}" --schema 'id:int4' --key id --key id e.sb empty.csv
fails_with 2 'no --schema given' "no schema" "${B[@]}" --key id e.sb empty.csv
fails_with 2 'unrecognized option "--index"' "--index is no longer an option" \
  "${B[@]}" --schema 'id:int4' --key id --index lines e.sb empty.csv
fails_with 2 'invalid --memory value "0"' "a bad memory budget" \
  "${B[@]}" --schema 'id:int4' --key id --memory 0 e.sb empty.csv
fails_with 2 'invalid --inline value "4097": must be 0 to 4096 bytes' "an inline limit too wide" \
  "${B[@]}" --schema 'id:int4' --key id --inline 4097 e.sb empty.csv
fails_with 2 'could not open file "nonexistent.csv" for reading: No such file or directory' \
  "an input file that does not exist" "${B[@]}" --schema 'id:int4' --key id e.sb nonexistent.csv
fails_with 2 'could not read file ".": Is a directory' "an input that cannot be read" \
  "${B[@]}" --schema 'id:int4' --key id e.sb .
# root reads any file; without the capabilities that let it, it cannot
as_reader=()
if [ "$(id -u)" -eq 0 ]; then
  as_reader=(setpriv --bounding-set '-dac_override,-dac_read_search'
    --inh-caps '-dac_override,-dac_read_search')
fi
printf '1\n' >unreadable.csv
chmod 000 unreadable.csv
if [ "$(id -u)" -ne 0 ] && [ -r unreadable.csv ]; then
  skip "input without read permission: this user reads a file of mode 000"
elif [ "$(id -u)" -eq 0 ] && ! "${as_reader[@]}" test ! -r unreadable.csv 2>/dev/null; then
  skip "input without read permission: setpriv cannot drop root's capabilities"
else
  fails_with 2 'Permission denied' "an input file without read permission" \
    "${as_reader[@]}" "${B[@]}" --schema 'id:int4' --key id e.sb unreadable.csv
fi
cp good.sb exists.sb
fails_with 2 'output file "exists.sb" already exists' "an existing output file is not replaced" \
  "${B[@]}" --schema 'id:int4' --key id exists.sb empty.csv
check "the existing output file is untouched" cmp -s good.sb exists.sb
fails_with 2 'could not create file "no/such/dir/x.sb.tmp.[0-9]+": No such file or directory' \
  "an output directory that does not exist" "${B[@]}" --schema 'id:int4' --key id no/such/dir/x.sb empty.csv
fails_with 1 'line 2: extra data after last expected column' "too many fields" \
  "${B[@]}" --schema 'id:int4,t:text' --key id e.sb <(printf '1,a\n2,b,c\n')
fails_with 1 'line 2: missing data for column "t"' "too few fields" \
  "${B[@]}" --schema 'id:int4,t:text' --key id e.sb <(printf '1,a\n2\n')
fails_with 1 'line 2: unterminated CSV quoted field' "an unterminated quote" \
  "${B[@]}" --schema 'id:int4,t:text' --key id e.sb <(printf '1,a\n2,"b\n')
fails_with 1 'line 2: invalid byte sequence for encoding "UTF8": 0xff' "invalid UTF-8" \
  "${B[@]}" --schema 'id:int4,t:text' --key id e.sb <(printf '1,a\n2,\377\n')
fails_with 1 'line 2: invalid byte sequence for encoding "UTF8": 0x00' "a NUL byte" \
  "${B[@]}" --schema 'id:int4,t:text' --key id e.sb <(printf '1,a\n2,a\000b\n')
fails_with 1 'line 3: unquoted carriage return found in data' "mixed line endings" \
  "${B[@]}" --schema 'id:int4,t:text' --key id e.sb <(printf '1,a\n2,b\n3,c\r\n')
fails_with 1 'line 1, column "v": value "32768" is out of range for type smallint' \
  "int2 out of range" "${B[@]}" --schema 'v:int2' --key v e.sb <(printf '32768\n')
fails_with 1 'value "9223372036854775808" is out of range for type bigint' \
  "int8 out of range" "${B[@]}" --schema 'v:int8' --key v e.sb <(printf '9223372036854775808\n')
fails_with 1 '"1e400" is out of range for type double precision' \
  "float8 out of range" "${B[@]}" --schema 'v:float8' --key v e.sb <(printf '1e400\n')
fails_with 1 '"1e-50" is out of range for type real' \
  "float4 underflow" "${B[@]}" --schema 'v:float4' --key v e.sb <(printf '1e-50\n')
fails_with 1 'invalid input syntax for type double precision: ""' \
  "a quoted empty string is not a float" "${B[@]}" --schema 'v:float8' --key v e.sb <(printf '""\n')
fails_with 1 'invalid input syntax for type boolean: "o"' \
  "an ambiguous bool" "${B[@]}" --schema 'v:bool' --key v e.sb <(printf 'o\n')
fails_with 1 'invalid hexadecimal digit: "g"' "a bad bytea hex digit" \
  "${B[@]}" --schema 'v:bytea' --key v e.sb <(printf '\\x0g\n')
fails_with 1 'invalid hexadecimal data: odd number of digits' "an odd bytea hex string" \
  "${B[@]}" --schema 'v:bytea' --key v e.sb <(printf '\\x012\n')
fails_with 1 'invalid input syntax for type bytea' "a bad bytea escape" \
  "${B[@]}" --schema 'v:bytea' --key v e.sb <(printf 'a\\9\n')
fails_with 1 'invalid input syntax for type uuid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"' \
  "a short uuid" "${B[@]}" --schema 'v:uuid' --key v e.sb <(printf 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\n')
fails_with 1 'date/time field value out of range: "0000-01-01"' "year 0" \
  "${B[@]}" --schema 'v:date' --key v e.sb <(printf '0000-01-01\n')
fails_with 1 'date/time field value out of range: "2001-02-29"' "no 29 February in 2001" \
  "${B[@]}" --schema 'v:date' --key v e.sb <(printf '2001-02-29\n')
fails_with 1 'date out of range: "4714-11-23 BC"' "a date before 4714-11-24 BC" \
  "${B[@]}" --schema 'v:date' --key v e.sb <(printf '4714-11-23 BC\n')
fails_with 1 'date out of range: "5874898-01-01"' "a date after 5874897-12-31" \
  "${B[@]}" --schema 'v:date' --key v e.sb <(printf '5874898-01-01\n')
fails_with 1 'invalid input syntax for type date: "01/02/2003"' "a date not in ISO form" \
  "${B[@]}" --schema 'v:date' --key v e.sb <(printf '01/02/2003\n')
fails_with 1 'timestamp out of range: "294277-01-01 00:00:00"' "a timestamp after the range" \
  "${B[@]}" --schema 'v:timestamp' --key v e.sb <(printf '294277-01-01 00:00:00\n')
fails_with 1 'timestamp out of range: "4714-11-24 00:00:00\+01 BC"' "a timestamptz before the range" \
  "${B[@]}" --schema 'v:timestamptz' --key v e.sb <(printf '4714-11-24 00:00:00+01 BC\n')
fails_with 1 'time zone displacement out of range: "2000-01-01 00:00:00\+16"' "a zone offset over 15 hours" \
  "${B[@]}" --schema 'v:timestamptz' --key v e.sb <(printf '2000-01-01 00:00:00+16\n')
fails_with 1 'date/time field value out of range: "2000-01-01 24:00:01"' "a time after 24:00:00" \
  "${B[@]}" --schema 'v:timestamp' --key v e.sb <(printf '2000-01-01 24:00:01\n')
fails_with 1 'invalid input syntax for type timestamp with time zone: "2000-01-01 12:00 PST8PDT"' \
  "a named time zone" "${B[@]}" --schema 'v:timestamptz' --key v e.sb <(printf '2000-01-01 12:00 PST8PDT\n')
check "no temporary files are left after the failed builds" no_leftovers
check "no output files were created by the failed builds" test ! -e e.sb

# a build killed by a signal removes its temporary file
rm -f sig.sb fifo
mkfifo fifo
"$SB" build --schema 'id:int4' --key id sig.sb fifo 2>/dev/null &
pid=$!
exec 3>fifo
printf '1\n2\n' >&3
for _ in $(seq 50); do
  [ "$(count_files 'sig.sb.tmp.*')" -eq 0 ] || break
  sleep 0.1
done
had_tmp=$(count_files 'sig.sb.tmp.*')
kill -TERM $pid
wait $pid
rc=$?
exec 3>&-
check "a build stopped by SIGTERM removes its temporary file" \
  test "$had_tmp" -eq 1 -a $rc -eq 143 -a ! -e sig.sb -a "$(count_files 'sig.sb.tmp.*')" -eq 0
rm -f fifo

###########################################################################
# Error paths of get, dump, info
###########################################################################

section "Error paths of get, dump, info"

fails_with 2 'could not open file "missing.sb": No such file or directory' \
  "dump of a missing file" "$SB" dump missing.sb
fails_with 2 'could not open file "missing.sb": No such file or directory' \
  "info of a missing file" "$SB" info missing.sb
fails_with 2 'invalid key for column "k": invalid input syntax for type integer: "abc"' \
  "get with a key that does not parse" "$SB" get dup.sb abc
fails_with 2 'no key given' "get without a key" "$SB" get dup.sb
fails_with 2 'invalid option' "a key starting with - needs --" "$SB" get dup.sb -1
fails_with 1 'not a bundle file' "get on a file that is not a bundle" "$SB" get text.sb 1
fails_with 2 'too many arguments' "dump of two files" "$SB" dump dup.sb dup.sb
# Bundles of 'id:int8,name:text' rows (1,apple), (2,NULL), (3,apple) that
# sbundle build wrote before 0.3.0: with --index bucketed --inline 0
# (format 1.0) and with --index sorted (format 2.0).  Their index kinds
# are gone: every command refuses them and asks for a rebuild.
cp "$HERE/format-1.0.sb" "$HERE/format-2.0.sb" .
fails_with 1 '^sbundle: format-1.0.sb: bundle file has an obsolete format: the file has format version 1.0, whose index is no longer read; rebuild the bundle$' \
  "info of a format 1.0 bundle (bucketed index) asks for a rebuild" "$SB" info format-1.0.sb
fails_with 1 '^sbundle: format-2.0.sb: .*format version 2.0, whose index is no longer read; rebuild the bundle$' \
  "get in a format 2.0 bundle (sorted index) asks for a rebuild" "$SB" get format-2.0.sb 1
fails_with 1 'format version 1.0, whose index is no longer read; rebuild the bundle$' \
  "dump of a format 1.0 bundle asks for a rebuild" "$SB" dump format-1.0.sb
fails_with 1 'format version 2.0, whose index is no longer read; rebuild the bundle$' \
  "verify of a format 2.0 bundle asks for a rebuild" "$SB" verify format-2.0.sb

###########################################################################
# A bundle with a hashed key
###########################################################################

section "A bundle with a hashed key"

# hashed_key.sb was built by the extension (PostgreSQL 15):
#   CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2',
#                        deterministic = false);
#   SELECT sharedbuf_create('fruit', $$SELECT id, name COLLATE ci AS name,
#     note FROM (VALUES (1, 'Apple', 'red'), (2, 'APPLE', 'green'),
#     (3, 'pear', NULL), (4, NULL, 'none')) v(id, name, note)$$,
#     key => 'name');
# Its key is hashed with PostgreSQL's hash of text under that collation,
# which get cannot compute: it says so.  info, verify and dump work.
cp "$HERE/hashed_key.sb" hashed.sb
run "$SB" info hashed.sb
[ "$rc" -eq 0 ] && grep -Eq '^ +2 +name +pg_catalog.text .* 1 +hashed$' out &&
  grep -q '^format version: *4.0$' out &&
  grep -q '^  key.1.hash_function = pg_catalog.hashtextextended$' out &&
  grep -q '^  key.1.collation = public.ci$' out
ok $? "info shows the hashed key and how it was hashed"
check "verify accepts the bundle" quietly "$SB" verify hashed.sb
printf '1,Apple,red\n2,APPLE,green\n3,pear,\n4,,none\n' >hashed.csv
"$SB" dump hashed.sb >hashed.out && same hashed.csv hashed.out
ok $? "dump prints every row"
fails_with 1 'cannot look keys up: key column "name" is hashed with PostgreSQL.s pg_catalog.hashtextextended' \
  "get refuses a hashed key, naming it" "$SB" get hashed.sb Apple
grep -q 'sbundle dump' err
ok $? "get points to dump"

###########################################################################
# Float output: the shortest digits that read back, as PostgreSQL prints
###########################################################################

section "Float output: the shortest digits that read back, as PostgreSQL prints"

if command -v python3 >/dev/null 2>&1; then
  # the reference: exact arithmetic with Python's fractions
  python3 - <<'EOF'
import random, struct, math
from fractions import Fraction
from decimal import Decimal

def bounds(d):
    bits = struct.unpack('<Q', struct.pack('<d', d))[0]
    E, F = (bits >> 52) & 0x7FF, bits & ((1 << 52) - 1)
    m, e = (F | (1 << 52), E - 1075) if E else (F, -1074)
    hi = Fraction(2 * m + 1) * Fraction(2) ** (e - 1)
    lo = (Fraction(4 * m - 1) * Fraction(2) ** (e - 2) if F == 0 and E > 1
          else Fraction(2 * m - 1) * Fraction(2) ** (e - 1))
    return lo, hi

def shortest(d):
    """PostgreSQL's digits: shortest strictly inside the rounding interval, closest."""
    v = Fraction(d)
    t = Decimal(repr(d)).as_tuple()
    n = int(''.join(map(str, t.digits)))
    lo, hi = bounds(d)
    c = Fraction(n) * Fraction(10) ** t.exponent
    if lo < c < hi:
        return n, t.exponent
    for p in range(1, 18):
        X = len(str(int(v))) - 1 if v >= 1 else -len(str(int(1 / v)))
        while Fraction(10) ** X > v: X -= 1
        while Fraction(10) ** (X + 1) <= v: X += 1
        k = X - p + 1
        q = v / Fraction(10) ** k
        best = None
        for n in (math.floor(q), math.floor(q) + 1):
            c = Fraction(n) * Fraction(10) ** k
            if lo < c < hi and (best is None or abs(c - v) < abs(best[2] - v)):
                best = (n, k, c)
        if best:
            return best[0], best[1]

def pg(d):
    if d != d: return 'NaN'
    if d in (float('inf'), float('-inf')): return ('-' if d < 0 else '') + 'Infinity'
    if d == 0: return '-0' if math.copysign(1, d) < 0 else '0'
    n, k = shortest(abs(d))
    s = str(n)
    x = len(s) - 1 + k
    digits = s.rstrip('0')
    n = len(digits)
    sign = '-' if d < 0 else ''
    if x < -4 or x > 14:
        return sign + digits[0] + ('.' + digits[1:] if n > 1 else '') + 'e%s%02d' % ('-' if x < 0 else '+', abs(x))
    if x < 0:
        return sign + '0.' + '0' * (-x - 1) + digits
    if n <= x + 1:
        return sign + digits + '0' * (x + 1 - n)
    return sign + digits[:x + 1] + '.' + digits[x + 1:]

random.seed(15)
vals = [struct.unpack('<d', struct.pack('<Q', random.getrandbits(64)))[0] for _ in range(8000)]
vals += [s * 2.0 ** e for e in range(-1074, 1024) for s in (1, -1)]
vals += [i / 10 for i in range(1, 2000)] + [i * 1e13 for i in range(1, 2000)]
vals += [float(2 ** 54 + 4 * i) for i in range(2000)]
with open('rf.csv', 'w') as f, open('rf.exp', 'w') as g:
    for i, d in enumerate(vals):
        f.write('%d,%r\n' % (i, d))
        g.write('%d,%s\n' % (i, pg(d)))
EOF
  rm -f rf.sb
  "$SB" build --schema 'i:int4,v:float8' --key i rf.sb rf.csv && "$SB" dump rf.sb >rf.out
  check "float8 output of $(wc -l <rf.csv) values: shortest digits strictly inside the rounding interval" same rf.exp rf.out
else
  skip "python3 is not available"
fi

###########################################################################
# Against a real PostgreSQL server
###########################################################################

section "Against a real PostgreSQL server"

# The SQL run on the server: tricky values of every type, exported with
# COPY; single-column tables whose heap tuples give the datum images.
write_server_sql() {
  cat <<'EOF'
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION pageinspect;
CREATE TABLE tricky (id int4, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
  b bool, t text, by bytea, d date, ts timestamp, tz timestamptz, u uuid);
INSERT INTO tricky VALUES
 (1, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', true, '', '\x',
  '4714-11-24 BC', '4714-11-24 00:00:00 BC', '4714-11-24 00:00:00+00 BC',
  '00000000-0000-0000-0000-000000000000'),
 (2, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity', false,
  'a,b', '\x00ff', '5874897-12-31', '294276-12-31 23:59:59.999999',
  '294276-12-31 23:59:59.999999+00', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
 (3, 0, 0, 0, '-Infinity', '-Infinity', NULL, 'say "hi"', NULL, 'infinity',
  'infinity', 'infinity', NULL),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, -1, -1, -1, '-0', '-0', true, E'line1\nline2', '\x0a0d2c22',
  '-infinity', '-infinity', '-infinity', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
 (6, 1, 1, 1, '1.4e-45', '5e-324', false, E'cr\rhere', '\x5c2e', '0001-01-01',
  '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '12345678-9abc-def0-1234-56789abcdef0'),
 (7, 2, 3, 4, '3.4028235e38', '1.7976931348623157e308', true,
  'héllo wörld 日本語 🎉', '\xc3a9', '0001-12-31 BC', '2000-01-01 00:00:00.000001',
  '1999-12-31 23:59:59.5+00', NULL),
 (8, 5, 6, 7, '1.1754944e-38', '2.2250738585072014e-308', false,
  ' leading and trailing ', '\x', '2000-02-29', '1970-01-01 00:00:00',
  '2000-01-01 12:00:00+05:30', NULL),
 (9, 8, 9, 10, '1e6', '1e15', true, '\.', '\x5c2e', '9999-12-31',
  '0044-03-15 12:00:00.5 BC', '0044-03-15 12:00:00.5+00 BC', NULL),
 (10, 11, 12, 13, '100000', '1e14', NULL, 'NULL', NULL, '10000-01-01',
  '10000-01-01 00:00:00', '10000-01-01 00:00:00+00', NULL),
 (11, 14, 15, 16, '0.1', '0.1', NULL, repeat('x', 126), NULL, '2000-01-01',
  '2000-01-01 00:00:00', '2000-01-01 00:00:00+00', NULL),
 (12, 17, 18, 19, '123456.7', '1.5e-7', NULL, repeat('y', 127), NULL, NULL,
  NULL, NULL, NULL),
 (13, 20, 21, 22, '1e-5', '1e-5', NULL, E'back\\slash', NULL, NULL, NULL, NULL, NULL),
 (14, 23, 24, 25, '16777217', '1e20', NULL, '"', NULL, NULL, NULL, NULL, NULL),
 (15, 26, 27, 28, '0.0001', '0.0001', NULL, E'\r\n', NULL, NULL, NULL, NULL, NULL),
 (16, 29, 30, 31, '-1.5e-10', '-1.5e-10', NULL, repeat('z', 300), NULL, NULL,
  NULL, NULL, NULL);
\copy (SELECT * FROM tricky ORDER BY id) TO 'pg_tricky.csv' (FORMAT csv)
\copy (SELECT * FROM tricky ORDER BY id) TO 'pg_tricky_h.csv' (FORMAT csv, HEADER)
CREATE TABLE tricky_back (LIKE tricky);

CREATE TABLE rf8 (i int4, v float8);
\copy rf8 FROM 'rf8.csv' (FORMAT csv)
\copy (SELECT * FROM rf8 ORDER BY i) TO 'pg_rf8.csv' (FORMAT csv)
\copy (SELECT v::text FROM rf8 ORDER BY i) TO 'pg_rf8_text.txt'
CREATE TABLE rf4 (i int4, v float4);
\copy rf4 FROM 'rf4.csv' (FORMAT csv)
\copy (SELECT * FROM rf4 ORDER BY i) TO 'pg_rf4.csv' (FORMAT csv)
\copy (SELECT v::text FROM rf4 ORDER BY i) TO 'pg_rf4_text.txt'
CREATE TABLE rt (i int4, t text, b bytea);
\copy rt FROM 'rt.csv' (FORMAT csv)
\copy (SELECT * FROM rt ORDER BY i) TO 'pg_rt.csv' (FORMAT csv)
SELECT setseed(0.5);
CREATE TABLE rdt AS SELECT i,
  date '4714-11-24 BC' + (random() * 2147483000)::int AS d,
  timestamp '4714-11-24 00:00:00 BC' + (random() * 109000000)::int * interval '1 day'
    + random() * interval '1 day' AS ts,
  timestamptz '4714-11-24 00:00:00+00 BC' + (random() * 109000000)::int * interval '1 day'
    + random() * interval '1 day' AS tz
  FROM generate_series(1, 3000) i;
\copy (SELECT * FROM rdt ORDER BY i) TO 'pg_rdt.csv' (FORMAT csv)
EOF
  for c in i2:int2 i4:int4 i8:int8 f4:float4 f8:float8 b:bool t:text by:bytea \
    d:date ts:timestamp tz:timestamptz u:uuid; do
    col=${c%%:*}
    cat <<EOF
CREATE TABLE img_$col AS SELECT $col AS v FROM tricky WHERE $col IS NOT NULL ORDER BY id;
\\copy (SELECT $col FROM tricky WHERE $col IS NOT NULL ORDER BY id) TO 'col_$col.csv' (FORMAT csv)
\\copy (SELECT '\\x' || encode(t_data, 'hex') FROM heap_page_items(get_raw_page('img_$col', 0)) ORDER BY lp) TO 'img_$col.txt' (FORMAT csv)
EOF
  done
}

# The script run inside the throw-away cluster.
write_server_script() {
  cat <<'EOF'
set -e
psql -X -q -f server.sql >server.log 2>&1
"$SB" build --schema "$TRICKY" --key id tricky.sb pg_tricky.csv
"$SB" dump tricky.sb >sb_tricky.csv
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy tricky_back FROM 'sb_tricky.csv' (FORMAT csv)" \
  -c "\\copy (SELECT * FROM tricky_back ORDER BY id) TO 'pg_tricky_back.csv' (FORMAT csv)" \
  >>server.log 2>&1
touch server.done
EOF
}

# Random inputs for the server: floats of every magnitude, texts, bytes.
write_server_inputs() {
  python3 - <<'EOF'
import random, struct
random.seed(42)
with open('rf8.csv', 'w') as f:
    for i in range(20000):
        d = struct.unpack('<d', struct.pack('<Q', random.getrandbits(64)))[0]
        f.write('%d,%r\n' % (i, d))
with open('rf4.csv', 'w') as f:
    for i in range(20000):
        x = struct.unpack('<f', struct.pack('<I', random.getrandbits(32)))[0]
        f.write('%d,%r\n' % (i, x))
alphabet = 'ab, "\n\r\\.xé日🎉\t'
with open('rt.csv', 'w') as f:
    for i in range(2000):
        t = ''.join(random.choice(alphabet) for _ in range(random.randint(0, 40)))
        b = bytes(random.getrandbits(8) for _ in range(random.randint(0, 40)))
        f.write('%d,"%s",\\x%s\n' % (i, t.replace('"', '""'), b.hex()))
EOF
}

# A free TCP port for the throw-away cluster.
free_port() {
  local port
  for _ in $(seq 20); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo 54321
}

# on_server DESCRIPTION COMMAND...: a check against the server's results,
# reported as skipped, with the reason, when the server could not run.
on_server() {
  if [ -n "$server_skip" ]; then
    skip "$1: $server_skip"
  else
    check "$@"
  fi
}

# prints FILE COMMAND...: does COMMAND print what FILE holds, byte for byte?
prints() {
  local file=$1
  shift
  "$@" >prints.out && same "$file" prints.out
}

# build_dump SCHEMA KEY CSV [DUMP OPTION...]: dump a bundle built from CSV.
build_dump() {
  local schema=$1 key=$2 csv=$3
  shift 3
  rm -f bd.sb
  "$SB" build --schema "$schema" --key "$key" bd.sb "$csv" && "$SB" dump "$@" bd.sb
}

# second_field SCHEMA KEY CSV: the second CSV field of each dumped row.
second_field() {
  build_dump "$@" >second.csv && cut -d, -f2 second.csv
}

TRICKY='id:int4,i2:int2,i4:int4,i8:int8,f4:float4,f8:float8,b:bool,t:text,by:bytea,d:date,ts:timestamp,tz:timestamptz,u:uuid'
server_skip=""
if ! command -v pg_virtualenv >/dev/null 2>&1; then
  server_skip="pg_virtualenv is not installed"
elif ! command -v python3 >/dev/null 2>&1; then
  server_skip="python3 is not available"
else
  write_server_sql >server.sql
  write_server_script >server.sh
  write_server_inputs
  export SB TRICKY PGTZ=UTC PGDATESTYLE='ISO, MDY' PGOPTIONS='-c extra_float_digits=1'
  PGPORT=$(free_port) timeout 180 pg_virtualenv -t -c '--locale=C.UTF-8' bash server.sh >virtualenv.log 2>&1
  if [ ! -e server.done ]; then
    server_skip="pg_virtualenv could not run the server (its log is above)"
    tail -n 15 virtualenv.log server.log 2>/dev/null | sed 's/^/# /'
  fi
fi
on_server "PostgreSQL: COPY CSV of tricky values of every type == build + dump" \
  same pg_tricky.csv sb_tricky.csv
on_server "PostgreSQL: COPY CSV with HEADER == dump --header" \
  prints pg_tricky_h.csv "$SB" dump --header tricky.sb
on_server "PostgreSQL: reads the dump back as the same values" \
  same pg_tricky.csv pg_tricky_back.csv
for c in i2:int2 i4:int4 i8:int8 f4:float4 f8:float8 b:bool t:text by:bytea \
  d:date ts:timestamp tz:timestamptz u:uuid; do
  col=${c%%:*}
  on_server "PostgreSQL: datum images of ${c#*:} are the server's heap tuple bytes" \
    prints "img_$col.txt" build_dump "v:${c#*:}" v "col_$col.csv" --images
done
for t in rf8:float8 rf4:float4; do
  name=${t%%:*}
  on_server "PostgreSQL: ${t#*:} output of 20000 random bit patterns == COPY CSV" \
    prints "pg_$name.csv" build_dump "i:int4,v:${t#*:}" i "$name.csv"
  on_server "PostgreSQL: ${t#*:} text == SELECT v::text" \
    prints "pg_${name}_text.txt" second_field "i:int4,v:${t#*:}" i "$name.csv"
done
on_server "PostgreSQL: 2000 random texts and byteas == COPY CSV" \
  prints pg_rt.csv build_dump 'i:int4,t:text,b:bytea' t pg_rt.csv
on_server "PostgreSQL: 3000 random dates and timestamps over the whole range == COPY CSV" \
  prints pg_rdt.csv build_dump 'i:int4,d:date,ts:timestamp,tz:timestamptz' ts pg_rdt.csv

echo "1..$ntests"
if [ "$nfailed" -gt 0 ]; then
  echo "# $nfailed of $ntests tests failed, $nskipped skipped"
  exit 1
fi
if [ "$nskipped" -gt 0 ]; then
  echo "# $((ntests - nskipped)) tests passed, $nskipped skipped"
else
  echo "# all $ntests tests passed"
fi
exit 0
