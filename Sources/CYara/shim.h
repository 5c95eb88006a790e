#ifndef INCIDENT_CYARA_SHIM_H
#define INCIDENT_CYARA_SHIM_H
/* libyara (Debian libyara-dev). The iteration macros do not import into Swift; helpers instead. */
#include <stdint.h>
#include <string.h>
#include <yara.h>

static inline int inc_yr_success(void) { return ERROR_SUCCESS; }
static inline int inc_yr_msg_rule_matching(void) { return CALLBACK_MSG_RULE_MATCHING; }
static inline int inc_yr_continue(void) { return CALLBACK_CONTINUE; }
static inline int inc_yr_scan_flags(void) { return SCAN_FLAGS_REPORT_RULES_MATCHING; }
static inline const char *inc_yr_rule_identifier(const YR_RULE *rule) { return rule->identifier; }
/* Includes are refused: rule text from a case or an imported feed must not read files of this
   machine (`include "/etc/…"`). */
static inline const char *inc_yr_refuse_include(const char *name, const char *file, const char *ns, void *data) {
    (void)name; (void)file; (void)ns; (void)data;
    return NULL;
}
static inline void inc_yr_disable_includes(YR_COMPILER *compiler) {
    yr_compiler_set_include_callback(compiler, inc_yr_refuse_include, NULL, NULL);
}

/* The namespace the rule was compiled into (the rule source's name), or NULL. */
static inline const char *inc_yr_rule_namespace(const YR_RULE *rule) { return rule->ns ? rule->ns->name : NULL; }

/* The index-th rule of a compiled rule set, or NULL past the last one. */
static inline const YR_RULE *inc_yr_rule_at(const YR_RULES *rules, int index) {
    const YR_RULE *rule;
    int i = 0;
    yr_rules_foreach(rules, rule) {
        if (i == index) return rule;
        i++;
    }
    return NULL;
}

/* The rule's string metadata value named `name`, or NULL. */
static inline const char *inc_yr_meta_string(const YR_RULE *rule, const char *name) {
    const YR_META *meta;
    yr_rule_metas_foreach(rule, meta) {
        if (meta->type == META_TYPE_STRING && strcmp(meta->identifier, name) == 0) return meta->string;
    }
    return NULL;
}

/* The earliest match of any of the rule's strings in this scan: its offset (-1 when the rule
   matched on its condition alone), and the matched bytes (valid only inside the callback). */
static inline int64_t inc_yr_first_match(YR_SCAN_CONTEXT *context, const YR_RULE *rule,
                                         const uint8_t **data, int32_t *length) {
    const YR_STRING *string;
    int64_t best = -1;
    *data = NULL;
    *length = 0;
    yr_rule_strings_foreach(rule, string) {
        const YR_MATCH *match;
        yr_string_matches_foreach(context, string, match) {
            int64_t at = match->base + match->offset;
            if (best < 0 || at < best) {
                best = at;
                *data = match->data;
                *length = match->data_length;
            }
        }
    }
    return best;
}
#endif
