# md2man.awk: turns docs/klease.md into the man page klease(1), so the two
# cannot drift apart. It knows the Markdown that file uses and no more:
# "# title(N)", "## SECTION", "### Subsection", paragraphs, "- " lists,
# ``` blocks, two-column | tables |, **bold**, *italic* and `code`.
# Usage: awk -v date=YYYY-MM-DD -v version=V -f md2man.awk docs/klease.md

function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    gsub(/\342\200\224/, "\\(em", s)
    gsub(/\342\200\246/, "...", s)
    return s
}

# Inline markup, after escaping: `code` and **bold** in bold, *x* in italics.
function inline(s,    out, m) {
    s = esc(s)
    gsub(/\\\\e\|/, "|", s)
    gsub(/\\e\|/, "|", s)
    out = ""
    while (match(s, /`[^`]*`/)) {
        out = out substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR"
        s = substr(s, RSTART + RLENGTH)
    }
    s = out s
    out = ""
    while (match(s, /\*\*[^*]+\*\*/)) {
        out = out substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR"
        s = substr(s, RSTART + RLENGTH)
    }
    s = out s
    out = ""
    while (match(s, /\*[^* ][^*]*\*/)) {
        out = out substr(s, 1, RSTART - 1) "\\fI" substr(s, RSTART + 1, RLENGTH - 2) "\\fR"
        s = substr(s, RSTART + RLENGTH)
    }
    s = out s
    # A line starting with . or ' would be a request to the formatter.
    if (s ~ /^[.']/)
        s = "\\&" s
    return s
}

function cell(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

BEGIN { code = 0 }

code && /^```/ { print ".fi"; print ".RE"; code = 0; next }
code { line = esc($0); if (line ~ /^[.']/) line = "\\&" line; print line; next }
/^```/ { print ".PP"; print ".RS 4"; print ".nf"; code = 1; next }

/^# / {
    title = $2
    sub(/\(.*/, "", title)
    sect = $2
    gsub(/.*\(|\).*/, "", sect)
    printf ".TH %s %s \"%s\" \"libklease %s\" \"User Commands\"\n", toupper(title), sect, date,
           version
    next
}
/^## / { sub(/^## /, ""); print ".SH " toupper($0); next }
/^### / { sub(/^### /, ""); print ".SS " inline($0); next }
/^\|[-| ]+\|$/ { next }
/^\| *(option|status|variable) *\|/ { next }
/^\|/ {
    # A row: the first cell is the tag, the rest its text. "\|" is a |
    # inside a cell.
    row = $0
    gsub(/\\\|/, "\001", row)
    n = split(row, c, "|")
    text = ""
    for (i = 3; i < n; i++)
        text = text (i > 3 ? " | " : "") cell(c[i])
    tag = cell(c[2])
    gsub(/\001/, "|", tag)
    gsub(/\001/, "|", text)
    print ".TP"
    print inline(tag)
    print inline(text)
    next
}
/^- / { sub(/^- /, ""); print ".IP \\(bu 2"; print inline($0); inlist = 1; next }
/^  +[^ ]/ && inlist { sub(/^ +/, ""); print inline($0); next }
/^$/ { print ".PP"; inlist = 0; next }
{ print inline($0) }
