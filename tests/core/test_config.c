/* ctca.json: the defaults parse, and every kind of mistake is CTCA_ERR_CONFIG
 * (or CTCA_ERR_JSON) naming the field. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/ca.h"

#define PROFILE_OK                                                                          \
    "\"validity_days\": 90, \"key_usage\": [\"digitalSignature\"], "                        \
    "\"ext_key_usage\": [\"serverAuth\"], \"allowed_san_types\": [\"dns\"]"
#define HEAD "{\"ca_cert\": \"ca.pem\", \"ca_key\": \"ca.key\", \"store\": \"ctca.db\", "

static ctca_err parse(const char *json, ctca_config **cfg, ctca_errbuf *eb)
{
    return ctca_config_parse(json, strlen(json), cfg, eb);
}

/* expect_error: json fails with code and the message starts with field. */
static void expect_error(const char *json, ctca_err code, const char *field)
{
    ctca_config *cfg = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err rc = parse(json, &cfg, &eb);
    cr_assert_eq(rc, code, "%s: got %s (%s)", json, ctca_err_name(rc), eb.msg);
    cr_assert_null(cfg);
    cr_assert(strncmp(eb.msg, field, strlen(field)) == 0, "message \"%s\" does not name %s",
              eb.msg, field);
}

Test(config, defaults_written_by_init_parse_with_both_profiles)
{
    char *json = NULL;
    cr_assert_eq(ctca_config_default_json("/abs/logs.json", false, &json), CTCA_OK);
    ctca_config *cfg = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(parse(json, &cfg, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_str_eq(ctca_config_get0_log_list(cfg), "/abs/logs.json");
    cr_assert_str_eq(ctca_config_get0_store(cfg), "ctca.db");
    const ctca_ct_settings *ct = ctca_config_get0_ct(cfg);
    cr_assert_eq(ct->log_timeout_ms, 10000);
    cr_assert_eq(ct->deadline_ms, 20000);
    cr_assert_eq(ct->min_scts, 2);
    cr_assert_eq(ct->min_operators, 2);

    const ctca_profile *srv = ctca_config_get0_profile(cfg, "tls-server");
    cr_assert_not_null(srv);
    cr_assert_eq(srv->validity_days, 90);
    cr_assert_eq(srv->key_usage, CTCA_KU_DIGITAL_SIGNATURE | CTCA_KU_KEY_ENCIPHERMENT);
    cr_assert_eq(srv->allowed_san_types, CTCA_SAN_DNS | CTCA_SAN_IP);
    cr_assert_eq(srv->eku_count, 1);
    static const uint8_t server_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
    cr_assert_eq(srv->eku[0].len, sizeof server_auth);
    cr_assert_arr_eq(srv->eku[0].der, server_auth, sizeof server_auth);
    cr_assert_eq(srv->subject, CTCA_SUBJECT_CN_FIRST_DNS);
    cr_assert_null(srv->ocsp_url);

    const ctca_profile *cli = ctca_config_get0_profile(cfg, "tls-client");
    cr_assert_not_null(cli);
    cr_assert_eq(cli->allowed_san_types, CTCA_SAN_DNS | CTCA_SAN_EMAIL | CTCA_SAN_URI);
    static const uint8_t client_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
    cr_assert_arr_eq(cli->eku[0].der, client_auth, sizeof client_auth);
    cr_assert_eq(cli->subject, CTCA_SUBJECT_CN_FROM_CSR);
    cr_assert_eq(ctca_config_profile_count(cfg), 2);
    cr_assert_null(ctca_config_get0_profile(cfg, "nope"));
    ctca_config_free(cfg);
    free(json);
}

Test(config, ct_defaults_apply_when_ct_is_absent_and_log_list_null)
{
    ctca_config *cfg = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(parse(HEAD "\"log_list\": null, \"profiles\": {\"p\": {" PROFILE_OK "}}}", &cfg,
                       &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_null(ctca_config_get0_log_list(cfg));
    cr_assert_eq(ctca_config_get0_ct(cfg)->min_scts, 2);
    cr_assert_eq(ctca_config_get0_ct(cfg)->deadline_ms, 20000);
    ctca_config_free(cfg);
}

Test(config, all_optional_profile_fields_parse)
{
    ctca_config *cfg = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(parse(HEAD "\"ct\": {\"min_scts\": 3, \"min_operators\": 2}, \"profiles\": {"
                            "\"p\": {" PROFILE_OK ", \"ocsp_url\": \"http://ocsp.example\", "
                            "\"ca_issuers_url\": \"http://ca.example/ca.der\", "
                            "\"crl_url\": \"http://crl.example/1.crl\", "
                            "\"policy_oids\": [\"2.23.140.1.2.1\", \"1.3.6.1.4.1.99999.1\"], "
                            "\"subject\": \"empty\"}}}",
                       &cfg, &eb),
                 CTCA_OK, "%s", eb.msg);
    const ctca_profile *p = ctca_config_get0_profile(cfg, "p");
    cr_assert_str_eq(p->ocsp_url, "http://ocsp.example");
    cr_assert_str_eq(p->crl_url, "http://crl.example/1.crl");
    cr_assert_eq(p->policy_count, 2);
    static const uint8_t dv[] = {0x67, 0x81, 0x0c, 0x01, 0x02, 0x01}; /* 2.23.140.1.2.1 */
    cr_assert_eq(p->policies[0].len, sizeof dv);
    cr_assert_arr_eq(p->policies[0].der, dv, sizeof dv);
    cr_assert_eq(ctca_config_get0_ct(cfg)->min_scts, 3);
    ctca_config_free(cfg);
}

Test(config, unknown_top_level_key_is_named)
{
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK "}}, \"colour\": 1}", CTCA_ERR_CONFIG,
                 "colour: unknown key");
}

Test(config, unknown_profile_key_is_named_by_path)
{
    expect_error(HEAD "\"profiles\": {\"tls-server\": {" PROFILE_OK ", \"valid_days\": 9}}}",
                 CTCA_ERR_CONFIG, "profiles.tls-server.valid_days: unknown key");
}

Test(config, ct_policy_and_allow_test_logs_parse)
{
    ctca_config *cfg = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(parse(HEAD "\"ct\": {\"policy\": \"chrome\", \"allow_test_logs\": true}, "
                            "\"profiles\": {\"p\": {" PROFILE_OK "}}}",
                       &cfg, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_str_eq(ctca_config_get0_ct(cfg)->policy, "chrome");
    cr_assert(ctca_config_get0_ct(cfg)->allow_test_logs);
    ctca_config_free(cfg);
    cr_assert_eq(parse(HEAD "\"profiles\": {\"p\": {" PROFILE_OK "}}}", &cfg, &eb), CTCA_OK);
    cr_assert_null(ctca_config_get0_ct(cfg)->policy, "absent: the min_scts rule");
    cr_assert_not(ctca_config_get0_ct(cfg)->allow_test_logs);
    ctca_config_free(cfg);
}

Test(config, ct_policy_excludes_min_scts_and_wrong_types_are_named)
{
    expect_error(HEAD "\"ct\": {\"policy\": \"apple\", \"min_operators\": 1}, "
                      "\"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ct.min_operators: not used with ct.policy");
    expect_error(HEAD "\"ct\": {\"policy\": 3}, \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ct.policy: expected a non-empty string");
    expect_error(HEAD "\"ct\": {\"allow_test_logs\": \"yes\"}, "
                      "\"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ct.allow_test_logs: expected true or false");
}

Test(config, unknown_ct_key_is_named_by_path)
{
    expect_error(HEAD "\"ct\": {\"min_sct\": 2}, \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ct.min_sct: unknown key");
}

Test(config, wrong_type_is_named_by_path)
{
    expect_error(HEAD "\"profiles\": {\"tls-server\": {\"validity_days\": \"90\", "
                      "\"key_usage\": [\"digitalSignature\"], \"ext_key_usage\": [\"serverAuth\"], "
                      "\"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.tls-server.validity_days");
    expect_error(HEAD "\"ct\": {\"deadline_ms\": 1.5}, \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ct.deadline_ms");
    expect_error(HEAD "\"ct\": [], \"profiles\": {\"p\": {" PROFILE_OK "}}}", CTCA_ERR_CONFIG,
                 "ct: expected an object");
    expect_error("{\"ca_cert\": 7, \"ca_key\": \"ca.key\", \"store\": \"ctca.db\", "
                 "\"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ca_cert");
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK ", \"policy_oids\": \"1.2.3\"}}}",
                 CTCA_ERR_CONFIG, "profiles.p.policy_oids: expected an array");
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 90, \"key_usage\": "
                      "[\"digitalSignature\", 3], \"ext_key_usage\": [\"serverAuth\"], "
                      "\"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.key_usage[1]: expected a string");
}

Test(config, missing_profile_field_is_named)
{
    expect_error(HEAD "\"profiles\": {\"tls-client\": {\"validity_days\": 90, "
                      "\"ext_key_usage\": [\"clientAuth\"], \"allowed_san_types\": [\"email\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.tls-client.key_usage: missing");
    expect_error(HEAD "\"profiles\": {\"tls-client\": {\"key_usage\": [\"digitalSignature\"], "
                      "\"ext_key_usage\": [\"clientAuth\"], \"allowed_san_types\": [\"email\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.tls-client.validity_days: missing");
    expect_error("{\"ca_cert\": \"ca.pem\", \"store\": \"ctca.db\", \"profiles\": {\"p\": {" PROFILE_OK
                 "}}}",
                 CTCA_ERR_CONFIG, "ca_key: missing");
    expect_error(HEAD "\"log_list\": null}", CTCA_ERR_CONFIG, "profiles: missing");
}

Test(config, values_out_of_range_or_unknown_are_refused)
{
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 0, \"key_usage\": "
                      "[\"digitalSignature\"], \"ext_key_usage\": [\"serverAuth\"], "
                      "\"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.validity_days: expected an integer in 1..3650");
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 9, \"key_usage\": [\"keyCertSign\"], "
                      "\"ext_key_usage\": [\"serverAuth\"], \"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.key_usage[0]: unknown key usage");
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 9, \"key_usage\": "
                      "[\"digitalSignature\"], \"ext_key_usage\": [\"webAuth\"], "
                      "\"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.ext_key_usage[0]");
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 9, \"key_usage\": "
                      "[\"digitalSignature\"], \"ext_key_usage\": [\"serverAuth\"], "
                      "\"allowed_san_types\": [\"x400\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.allowed_san_types[0]: unknown SAN type");
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 9, \"key_usage\": [], "
                      "\"ext_key_usage\": [\"serverAuth\"], \"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.key_usage: must not be empty");
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK ", \"ocsp_url\": \"ftp://x\"}}}",
                 CTCA_ERR_CONFIG, "profiles.p.ocsp_url");
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK ", \"policy_oids\": [\"1.02.3\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.policy_oids[0]: \"1.02.3\" is not a dotted OID");
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK ", \"subject\": \"copy\"}}}",
                 CTCA_ERR_CONFIG, "profiles.p.subject");
    expect_error(HEAD "\"ct\": {\"min_scts\": 1, \"min_operators\": 2}, \"profiles\": {\"p\": {"
                      PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ct.min_operators");
    expect_error(HEAD "\"profiles\": {}}", CTCA_ERR_CONFIG, "profiles: must name at least one");
    expect_error(HEAD "\"profiles\": {\"a b\": {" PROFILE_OK "}}}", CTCA_ERR_CONFIG,
                 "profiles.a b: a profile name");
}

Test(config, duplicate_keys_are_refused)
{
    expect_error(HEAD "\"store\": \"other.db\", \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "store: duplicate key");
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK "}, \"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "profiles.p: duplicate key");
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 9, \"key_usage\": "
                      "[\"digitalSignature\", \"digitalSignature\"], \"ext_key_usage\": "
                      "[\"serverAuth\"], \"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.key_usage[1]: duplicate");
}

Test(config, malformed_json_and_trailing_bytes_are_json_errors)
{
    expect_error("{\"ca_cert\": ", CTCA_ERR_JSON, "JSON syntax error");
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK "}}} {}", CTCA_ERR_JSON,
                 "trailing bytes");
    expect_error("[]", CTCA_ERR_CONFIG, "the document must be a JSON object");
}

Test(config, dotted_oid_encoding)
{
    ctca_oid oid;
    static const uint8_t rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
    cr_assert(ctca_oid_from_dotted("1.2.840.113549.1.1.1", &oid));
    cr_assert_eq(oid.len, sizeof rsa);
    cr_assert_arr_eq(oid.der, rsa, sizeof rsa);
    static const uint8_t big[] = {0x88, 0x37}; /* 2.999 */
    cr_assert(ctca_oid_from_dotted("2.999", &oid));
    cr_assert_eq(oid.len, 2);
    cr_assert_arr_eq(oid.der, big, 2);
    cr_assert_not(ctca_oid_from_dotted("1", &oid));
    cr_assert_not(ctca_oid_from_dotted("1.40", &oid));
    cr_assert_not(ctca_oid_from_dotted("3.1", &oid));
    cr_assert_not(ctca_oid_from_dotted("1.2.", &oid));
    cr_assert_not(ctca_oid_from_dotted("1..2", &oid));
    cr_assert_not(ctca_oid_from_dotted("1.2.x", &oid));
}

Test(config, preca_files_parse_together_and_profiles_default_to_using_the_preca)
{
    char *json = NULL;
    cr_assert_eq(ctca_config_default_json(NULL, true, &json), CTCA_OK);
    ctca_config *cfg = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(parse(json, &cfg, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_str_eq(ctca_config_get0_preca_cert(cfg), CTCA_CA_PRECA_CERT_FILE);
    cr_assert_str_eq(ctca_config_get0_preca_key(cfg), CTCA_CA_PRECA_KEY_FILE);
    cr_assert(ctca_config_get0_profile(cfg, "tls-server")->preca);
    ctca_config_free(cfg);
    free(json);

    cfg = NULL;
    cr_assert_eq(parse(HEAD "\"preca_cert\": null, \"preca_key\": null, \"profiles\": {\"p\": {"
                       PROFILE_OK ", \"preca\": false}}}",
                       &cfg, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_null(ctca_config_get0_preca_cert(cfg));
    cr_assert_not(ctca_config_get0_profile(cfg, "p")->preca);
    ctca_config_free(cfg);
}

Test(config, preca_cert_without_its_key_and_a_non_boolean_preca_are_named)
{
    expect_error(HEAD "\"preca_cert\": \"p.pem\", \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "preca_key: set preca_cert and preca_key together");
    expect_error(HEAD "\"preca_key\": \"p.key\", \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "preca_cert: set preca_cert and preca_key together");
    expect_error(HEAD "\"profiles\": {\"p\": {" PROFILE_OK ", \"preca\": 1}}}", CTCA_ERR_CONFIG,
                 "profiles.p.preca: expected true or false");
}

Test(config, ocsp_settings_parse_with_defaults_and_bounds)
{
    ctca_config *cfg = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(parse(HEAD "\"profiles\": {\"p\": {" PROFILE_OK "}}}", &cfg, &eb), CTCA_OK);
    cr_assert_eq(ctca_config_get0_ocsp(cfg)->validity_hours, 96);
    cr_assert_null(ctca_config_get0_ocsp(cfg)->responder_cert, "absent: the CA key signs");
    ctca_config_free(cfg);
    cr_assert_eq(parse(HEAD "\"ocsp\": {\"validity_hours\": 8, \"responder_cert\": \"r.pem\","
                            " \"responder_key\": \"r.key\"}, \"profiles\": {\"p\": {" PROFILE_OK
                            "}}}",
                       &cfg, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_config_get0_ocsp(cfg)->validity_hours, 8);
    cr_assert_str_eq(ctca_config_get0_ocsp(cfg)->responder_cert, "r.pem");
    cr_assert_str_eq(ctca_config_get0_ocsp(cfg)->responder_key, "r.key");
    ctca_config_free(cfg);
    expect_error(HEAD "\"ocsp\": {\"validity_hours\": 241}, \"profiles\": {\"p\": {" PROFILE_OK
                      "}}}",
                 CTCA_ERR_CONFIG, "ocsp.validity_hours");
    expect_error(HEAD "\"ocsp\": {\"validity_hours\": 7}, \"profiles\": {\"p\": {" PROFILE_OK
                      "}}}",
                 CTCA_ERR_CONFIG, "ocsp.validity_hours");
    expect_error(HEAD "\"ocsp\": {\"responder_cert\": \"r.pem\"}, \"profiles\": {\"p\": {"
                      PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ocsp.responder_key: missing");
    expect_error(HEAD "\"ocsp\": {\"nextUpdate\": 1}, \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ocsp.nextUpdate: unknown key");
}

Test(config, huge_numbers_nul_and_negative_zero_are_config_errors_by_path)
{
    expect_error(HEAD "\"profiles\": {\"p\": {\"validity_days\": 1e300, \"key_usage\": "
                      "[\"digitalSignature\"], \"ext_key_usage\": [\"serverAuth\"], "
                      "\"allowed_san_types\": [\"dns\"]}}}",
                 CTCA_ERR_CONFIG, "profiles.p.validity_days: expected an integer in 1..3650");
    expect_error(HEAD "\"queue\": {\"batch\": 123456789012345678901234567890}, \"profiles\": "
                      "{\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "queue.batch: number beyond the range");
    expect_error(HEAD "\"queue\": {\"recover_after_ms\": -0}, \"profiles\": {\"p\": {" PROFILE_OK
                      "}}}",
                 CTCA_ERR_CONFIG, "queue.recover_after_ms: -0 is not an integer");
    expect_error("{\"ca_cert\": \"ca.pem\\u0000.evil\", \"ca_key\": \"ca.key\", \"store\": "
                 "\"ctca.db\", \"profiles\": {\"p\": {" PROFILE_OK "}}}",
                 CTCA_ERR_CONFIG, "ca_cert: string holds \\u0000");
}
