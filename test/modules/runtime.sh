#!/bin/sh
# A module written in shell: registers its types with the typeDef builders
# and answers calls, all through raw GraphQL against the nested session.
set -e
AUTH="Authorization: Basic $(printf %s: "$DAGGER_SESSION_TOKEN" | base64)"
q() { wget -q -O- --header "$AUTH" --post-data "$(printf '{"query":"%s"}' "$(printf %s "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')")" "http://127.0.0.1:$DAGGER_SESSION_PORT/query"; }
ex() { sed -n 's/.*"id":"\([^"]*\)".*/\1/p'; }
ret() { q "{ currentFunctionCall { returnValue(value: \"$1\") } }" >/dev/null; }
MAIN=$(cat /src/main.txt)

CALL=$(q '{ currentFunctionCall { name parentName parent inputArgs { name value } } }')
NAME=$(echo "$CALL" | sed -n 's/.*"currentFunctionCall":{"name":"\([^"]*\)".*/\1/p')
PARENT_NAME=$(echo "$CALL" | sed -n 's/.*"parentName":"\([^"]*\)".*/\1/p')
arg() { echo "$CALL" | sed -n "s/.*{\"name\":\"$1\",\"value\":\"\\\\\"\([^\\\\]*\)\\\\\"\"}.*/\1/p"; }
field() { echo "$CALL" | sed -n "s/.*\\\\\"$1\\\\\":\\\\\"\([^\\\\]*\)\\\\\".*/\1/p"; }

if [ -z "$PARENT_NAME" ]; then
  STR=$(q '{ typeDef { withKind(kind: STRING_KIND) { id } } }' | ex)
  CTR=$(q '{ typeDef { withObject(name: "Container") { id } } }' | ex)
  CHILDREF=$(q "{ typeDef { withObject(name: \"${MAIN}Child\") { id } } }" | ex)
  SELF=$(q "{ typeDef { withObject(name: \"$MAIN\") { id } } }" | ex)
  fn() { q "{ function(name: \"$1\", returnType: \"$2\") { id } }" | ex; }
  F_HELLO=$(q "{ function(name: \"hello\", returnType: \"$STR\") { withDescription(description: \"Says hello\") { withArg(name: \"name\", typeDef: \"$STR\", defaultValue: \"\\\"world\\\"\") { id } } } }" | ex)
  F_ECHO=$(q "{ function(name: \"echo\", returnType: \"$CTR\") { withArg(name: \"msg\", typeDef: \"$STR\") { id } } }" | ex)
  F_FRESH=$(q "{ function(name: \"fresh\", returnType: \"$STR\") { withCachePolicy(policy: Never) { id } } }" | ex)
  DIR=$(q '{ typeDef { withObject(name: "Directory") { id } } }' | ex)
  OPTDIR=$(q '{ typeDef { withObject(name: "Directory") { withOptional(optional: true) { id } } } }' | ex)
  OPTCTR=$(q '{ typeDef { withObject(name: "Container") { withOptional(optional: true) { id } } } }' | ex)
  F_LS=$(q "{ function(name: \"ls\", returnType: \"$STR\") { withArg(name: \"dir\", typeDef: \"$DIR\", ignore: [\"*.skip\"]) { id } } }" | ex)
  F_CTX=$(q "{ function(name: \"ctx_files\", returnType: \"$STR\") { withArg(name: \"dir\", typeDef: \"$OPTDIR\", defaultPath: \"/\") { id } } }" | ex)
  F_IMG=$(q "{ function(name: \"img_echo\", returnType: \"$STR\") { withArg(name: \"ctr\", typeDef: \"$OPTCTR\", defaultAddress: \"$TANTO_IMAGE\") { id } } }" | ex)
  CTOR=$(q "{ function(name: \"\", returnType: \"$SELF\") { withArg(name: \"prefix\", typeDef: \"$STR\", defaultValue: \"\\\"hi\\\"\") { id } } }" | ex)
  T=$(q "{ typeDef { withObject(name: \"$MAIN\", description: \"The main object\") { withField(name: \"prefix\", typeDef: \"$STR\") { withConstructor(function: \"$CTOR\") { id } } } } }" | ex)
  for F in "$F_HELLO" "$F_ECHO" "$F_FRESH" "$(fn fail "$STR")" "$(fn crash "$STR")" "$(fn stamp "$STR")" "$(fn child "$CHILDREF")" "$(fn via_dep "$STR")" "$F_LS" "$F_CTX" "$F_IMG"; do
    T=$(q "{ loadTypeDefFromID(id: \"$T\") { withFunction(function: \"$F\") { id } } }" | ex)
  done
  CHILD=$(q "{ typeDef { withObject(name: \"${MAIN}Child\") { withField(name: \"note\", typeDef: \"$STR\") { id } } } }" | ex)
  MOD=$(q "{ module { withDescription(description: \"A module in sh\") { withObject(object: \"$T\") { withObject(object: \"$CHILD\") { id } } } } }" | ex)
  ret "\\\"$MOD\\\""
  exit 0
fi

case "$NAME" in
  "") P=$(arg prefix); ret "{\\\"prefix\\\":\\\"${P:-hi}\\\"}" ;;
  hello) N=$(arg name); ret "\\\"$(field prefix), ${N}!\\\"" ;;
  echo)
    C=$(q "{ container { from(address: \"$TANTO_IMAGE\") { withExec(args: [\"echo\", \"$(arg msg)\"]) { id } } } }" | ex)
    ret "\\\"$C\\\"" ;;
  fail)
    E=$(q '{ error(message: "boom") { withValue(name: "code", value: "42") { id } } }' | ex)
    q "{ currentFunctionCall { returnError(error: \"$E\") } }" >/dev/null
    exit 1 ;;
  crash) echo "crashing on purpose" >&2; exit 3 ;;
  stamp | fresh) ret "\\\"$(cat /proc/sys/kernel/random/uuid)\\\"" ;;
  child) ret "{\\\"note\\\":\\\"from $(field prefix)\\\"}" ;;
  via_dep)
    OUT=$(q '{ dep(prefix: "dep says") { hello(name: "parent") } }' | sed -n 's/.*"hello":"\([^"]*\)".*/\1/p')
    ret "\\\"$OUT\\\"" ;;
  ls | ctx_files)
    L=$(q "{ loadDirectoryFromID(id: \"$(arg dir)\") { entries } }" | sed -n 's/.*"entries":\[\([^]]*\)\].*/\1/p' | tr -d '"')
    ret "\\\"$L\\\"" ;;
  img_echo)
    OK=$(q "{ loadContainerFromID(id: \"$(arg ctr)\") { withExec(args: [\"echo\", \"img\"]) { stdout } } }" | grep -q '"stdout":"img' && echo yes)
    ret "\\\"${OK:-no}\\\"" ;;
  *) echo "no function $NAME" >&2; exit 2 ;;
esac
