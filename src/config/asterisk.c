/* An Asterisk configuration folder (-A DIR, [general] asterisk_dir): what
 * pbx_dundi reads, read as that Asterisk would. asterisk.conf first
 * ([options] entityid, systemname, execincludes; [directories] astetcdir,
 * astkeydir, astdatadir), then dundi.conf and extensions.conf from astetcdir
 * (DIR itself when unset). Relative #include names are taken from astetcdir,
 * as Asterisk does. Keys are Asterisk's: astkeydir/keys/NAME.pub, NAME.key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "load.h"

#define AST_DEFAULT_KEYDIR "/var/lib/asterisk/keys"

struct astpaths {
    char etc[CONF_STR_MAX];
    char keys[CONF_STR_MAX];
    bool keydir_set; /* astkeydir given: astdatadir no longer moves the keys */
};

static void asterisk_conf(struct loader *ld, const struct conf_fs *fs, const char *dir, struct astpaths *p)
{
    struct config *c = ld->c;
    char path[CONF_STR_MAX + 32];
    struct conf_doc doc;
    snprintf(path, sizeof(path), "%s/asterisk.conf", dir);
    struct conf_text_opts o = {.basedir = dir, .lenient = true};
    if (conf_read_doc(ld, fs, path, &o, &doc) == 1)
        return; /* Asterisk runs on its defaults without one */
    enum { NONE, OPTIONS, DIRS } sec = NONE;
    for (size_t i = 0; i < doc.n; i++) {
        const struct conf_item *it = &doc.items[i];
        if (it->kind == CONF_SECTION) {
            sec = !strcasecmp(it->name, "options") ? OPTIONS : !strcasecmp(it->name, "directories") ? DIRS : NONE;
            continue;
        }
        const char *k = it->name, *v = it->value;
        if (sec == OPTIONS && !strcasecmp(k, "entityid")) {
            eid_t e;
            if (eid_parse(&e, v) < 0)
                WARN(ld, it->loc, "entityid: '%s' is not an EID; Asterisk keeps its default", v);
            else {
                c->eid = e;
                c->has_eid = true;
            }
        } else if (sec == OPTIONS && !strcasecmp(k, "systemname")) {
            conf_copy(c->systemname, sizeof(c->systemname), v);
        } else if (sec == OPTIONS && !strcasecmp(k, "execincludes")) {
            c->exec_includes = conf_parse_bool(v) == 1;
        } else if (sec == DIRS && !strcasecmp(k, "astetcdir")) {
            if (!conf_copy(p->etc, sizeof(p->etc), v))
                WARN(ld, it->loc, "astetcdir: longer than %d characters; not used", CONF_STR_MAX - 1);
        } else if (sec == DIRS && (!strcasecmp(k, "astkeydir") || (!strcasecmp(k, "astdatadir") && !p->keydir_set))) {
            if (snprintf(p->keys, sizeof(p->keys), "%s/keys", v) >= (int)sizeof(p->keys))
                WARN(ld, it->loc, "%s: longer than %d characters; not used", k, CONF_STR_MAX - 6);
            p->keydir_set |= !strcasecmp(k, "astkeydir");
        }
    }
    conf_doc_free(&doc);
}

void asterisk_read(struct loader *ld, const struct conf_fs *fs, const char *dir)
{
    struct config *c = ld->c;
    struct astpaths p = {.keys = AST_DEFAULT_KEYDIR};
    char path[CONF_STR_MAX + 32];
    struct conf_doc doc;

    conf_copy(c->asterisk_dir, sizeof(c->asterisk_dir), dir);
    conf_copy(p.etc, sizeof(p.etc), dir);
    asterisk_conf(ld, fs, dir, &p);
    if (!c->keydir[0])
        conf_copy(c->keydir, sizeof(c->keydir), p.keys);

    struct conf_text_opts o = {.basedir = p.etc, .lenient = true, .exec_ok = c->exec_includes, .must_exist = true};
    snprintf(path, sizeof(path), "%s/dundi.conf", p.etc);
    conf_read_doc(ld, fs, path, &o, &doc);
    ld->lenient = true;
    conf_apply_doc(ld, &doc);
    ld->lenient = false;
    conf_doc_free(&doc);
    ld->seen_general = ld->seen_mappings = false;

    o.must_exist = false;
    snprintf(path, sizeof(path), "%s/extensions.conf", p.etc);
    int rc = conf_read_doc(ld, fs, path, &o, &doc);
    extensions_read(ld, &doc); /* also with no file: [globals] are then empty */
    conf_doc_free(&doc);
    (void)rc;

    /* Dialplans dundid does not read: say so once, at the folder. */
    static const char *const other[] = {"extensions.ael", "extensions.lua"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        char *data = NULL, err[64];
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", p.etc, other[i]);
        if (fs->read(fs->u, path, CONF_FILE_MAX_BYTES, &data, &len, err, sizeof(err)) == 0 && len)
            conf_diag_file(ld->d, path, false, "dundid reads extensions.conf only; the contexts defined here are "
                                               "unknown to it");
        free(data);
    }
}
