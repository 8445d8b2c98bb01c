#!/bin/sh
# scripts/debian-mirror.sh SUITE: print the URI of the first apt source on
# this machine that serves SUITE (e.g. bookworm), from one-line sources
# (deb [options] URI SUITE COMPONENTS) and deb822 stanzas (Types, URIs,
# Suites); nothing, and exit 1, if none does.  So that the project never
# writes a mirror's host name of its own.
set -eu
suite=${1:?usage: debian-mirror.sh SUITE}
own=/etc/apt/sources.list.d/mmreplay-bookworm-backports.sources
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	awk -v suite="$suite" '$1 == "deb" {
		i = 2
		if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
		if ($(i + 1) == suite) { print $i; exit }
	}' "$f"
done
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && [ "$f" != "$own" ] || continue
	awk -v suite="$suite" '
	function flush() {
		if (deb && uri != "" && index(suites, " " suite " ")) { print uri; found = 1 }
		deb = 0; uri = ""; suites = ""
	}
	/^[ \t]*$/ { flush(); if (found) exit; next }
	tolower($1) == "types:" { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
	tolower($1) == "uris:" { uri = $2 }
	tolower($1) == "suites:" { suites = " " substr($0, index($0, ":") + 1) " "; gsub(/\t/, " ", suites) }
	END { if (!found) flush() }' "$f"
done | head -n1 | grep . || exit 1
