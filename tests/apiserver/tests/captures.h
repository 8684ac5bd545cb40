/* Expected responses copied verbatim from the wire captures of a real
 * kube-apiserver (reference/apiserver-wire/), one block per capture:
 * the request it answered (comment), the status code and the exact body.
 * Generated once from the capture files; edit by hand only to fix a copy. */
#ifndef KLEASE_TESTS_KSIM_CAPTURES_H
#define KLEASE_TESTS_KSIM_CAPTURES_H

/* 03-apply-stale-rv: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease&force=true
 */
#define X_03_APPLY_STALE_RV_CODE 409
#define X_03_APPLY_STALE_RV_REQ                                                                    \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"197\"},\"spec\":{"                \
    "\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-11-23T18:38:50."  \
    "801717Z\",\"renewTime\":\"2026-11-23T18:38:50.801717Z\",\"leaseTransitions\":1}}"
#define X_03_APPLY_STALE_RV_BODY                                                                   \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Operation cannot be fulfilled on leases.coordination.k8s.io \\\"lease-a\\\": "  \
    "the object has been modified; please apply your changes to the latest version and try "       \
    "again\",\"reason\":\"Conflict\",\"details\":{\"name\":\"lease-a\",\"group\":\"coordination."  \
    "k8s.io\",\"kind\":\"leases\"},\"code\":409}\n"

/* 03c-apply-other-manager-no-force: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=other */
#define X_03C_APPLY_OTHER_MANAGER_NO_FORCE_CODE 409
#define X_03C_APPLY_OTHER_MANAGER_NO_FORCE_REQ                                                     \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-a\"},\"spec\":{\"holderIdentity\":"    \
    "\"b\",\"renewTime\":\"2026-11-23T18:38:50.962187Z\"}}"
#define X_03C_APPLY_OTHER_MANAGER_NO_FORCE_BODY                                                    \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Apply failed with 2 conflicts: conflicts with \\\"klease\\\":\\n- "             \
    ".spec.holderIdentity\\n- "                                                                    \
    ".spec.renewTime\",\"reason\":\"Conflict\",\"details\":{\"causes\":[{\"reason\":"              \
    "\"FieldManagerConflict\",\"message\":\"conflict with "                                        \
    "\\\"klease\\\"\",\"field\":\".spec.holderIdentity\"},{\"reason\":\"FieldManagerConflict\","   \
    "\"message\":\"conflict with "                                                                 \
    "\\\"klease\\\"\",\"field\":\".spec.renewTime\"}]},\"code\":409}\n"

/* 03d-apply-name-mismatch: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease&force=true
 */
#define X_03D_APPLY_NAME_MISMATCH_CODE 400
#define X_03D_APPLY_NAME_MISMATCH_REQ                                                              \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"some-other-name\"},\"spec\":{"               \
    "\"holderIdentity\":\"a\"}}"
#define X_03D_APPLY_NAME_MISMATCH_BODY                                                             \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"the name of the object (some-other-name) does not match the name on the URL "   \
    "(lease-a)\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 05-smp-stale-rv: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease */
#define X_05_SMP_STALE_RV_CODE 409
#define X_05_SMP_STALE_RV_REQ                                                                      \
    "{\"metadata\":{\"resourceVersion\":\"199\"},\"spec\":{\"renewTime\":\"2026-11-23T18:38:51."   \
    "250503Z\"}}"
#define X_05_SMP_STALE_RV_BODY                                                                     \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Operation cannot be fulfilled on leases.coordination.k8s.io \\\"lease-a\\\": "  \
    "the object has been modified; please apply your changes to the latest version and try "       \
    "again\",\"reason\":\"Conflict\",\"details\":{\"name\":\"lease-a\",\"group\":\"coordination."  \
    "k8s.io\",\"kind\":\"leases\"},\"code\":409}\n"

/* 05b-mergepatch-stale-rv: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease */
#define X_05B_MERGEPATCH_STALE_RV_CODE 409
#define X_05B_MERGEPATCH_STALE_RV_REQ                                                              \
    "{\"metadata\":{\"resourceVersion\":\"199\"},\"spec\":{\"renewTime\":\"2026-11-23T18:38:51."   \
    "250503Z\"}}"
#define X_05B_MERGEPATCH_STALE_RV_BODY                                                             \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Operation cannot be fulfilled on leases.coordination.k8s.io \\\"lease-a\\\": "  \
    "the object has been modified; please apply your changes to the latest version and try "       \
    "again\",\"reason\":\"Conflict\",\"details\":{\"name\":\"lease-a\",\"group\":\"coordination."  \
    "k8s.io\",\"kind\":\"leases\"},\"code\":409}\n"

/* 08-get-missing: GET /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-missing */
#define X_08_GET_MISSING_CODE 404
#define X_08_GET_MISSING_BODY                                                                      \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"leases.coordination.k8s.io \\\"lease-missing\\\" not "                          \
    "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"lease-missing\",\"group\":"           \
    "\"coordination.k8s.io\",\"kind\":\"leases\"},\"code\":404}\n"

/* 09-apply-missing-no-rv: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-apply-created?fieldManager=klease&force=true
 */
#define X_09_APPLY_MISSING_NO_RV_CODE 400
#define X_09_APPLY_MISSING_NO_RV_REQ                                                               \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{},\"spec\":{\"holderIdentity\":\"a\","                  \
    "\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-11-23T18:38:51.775929Z\",\"renewTime\":"   \
    "\"2026-11-23T18:38:51.775929Z\",\"leaseTransitions\":0}}"
#define X_09_APPLY_MISSING_NO_RV_BODY                                                              \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"the name of the object (lease-apply-created based on URL) was undeterminable: " \
    "name must be provided\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 10-apply-missing-with-rv: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-apply-with-rv?fieldManager=klease&force=true
 */
#define X_10_APPLY_MISSING_WITH_RV_CODE 400
#define X_10_APPLY_MISSING_WITH_RV_REQ                                                             \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"201\"},\"spec\":{"                \
    "\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-11-23T18:38:51."  \
    "775929Z\",\"renewTime\":\"2026-11-23T18:38:51.775929Z\",\"leaseTransitions\":0}}"
#define X_10_APPLY_MISSING_WITH_RV_BODY                                                            \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"the name of the object (lease-apply-with-rv based on URL) was undeterminable: " \
    "name must be provided\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 10b-smp-missing: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-missing?fieldManager=klease */
#define X_10B_SMP_MISSING_CODE 404
#define X_10B_SMP_MISSING_REQ                                                                      \
    "{\"metadata\":{\"resourceVersion\":\"201\"},\"spec\":{\"renewTime\":\"2026-11-23T18:38:51."   \
    "935086Z\"}}"
#define X_10B_SMP_MISSING_BODY                                                                     \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"leases.coordination.k8s.io \\\"lease-missing\\\" not "                          \
    "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"lease-missing\",\"group\":"           \
    "\"coordination.k8s.io\",\"kind\":\"leases\"},\"code\":404}\n"

/* 12-post-duplicate: POST
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases?fieldManager=klease */
#define X_12_POST_DUPLICATE_CODE 409
#define X_12_POST_DUPLICATE_REQ                                                                    \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-post\",\"namespace\":\"klease-test\"}" \
    ",\"spec\":{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-11-"   \
    "23T18:38:52.201346Z\",\"renewTime\":\"2026-11-23T18:38:52.201346Z\",\"leaseTransitions\":0}}"
#define X_12_POST_DUPLICATE_BODY                                                                   \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"leases.coordination.k8s.io \\\"lease-post\\\" already "                         \
    "exists\",\"reason\":\"AlreadyExists\",\"details\":{\"name\":\"lease-post\",\"group\":"        \
    "\"coordination.k8s.io\",\"kind\":\"leases\"},\"code\":409}\n"

/* 12b-post-with-rv: POST
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases?fieldManager=klease */
#define X_12B_POST_WITH_RV_CODE 500
#define X_12B_POST_WITH_RV_REQ                                                                     \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-post-rv\",\"resourceVersion\":"        \
    "\"12345\"},\"spec\":{\"holderIdentity\":\"a\"}}"
#define X_12B_POST_WITH_RV_BODY                                                                    \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"resourceVersion should not be set on objects to be created\",\"code\":500}\n"

/* 13-post-invalid-duration-zero: POST /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_13_POST_INVALID_DURATION_ZERO_CODE 422
#define X_13_POST_INVALID_DURATION_ZERO_REQ                                                        \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-bad\"},\"spec\":{\"holderIdentity\":"  \
    "\"a\",\"leaseDurationSeconds\":0}}"
#define X_13_POST_INVALID_DURATION_ZERO_BODY                                                       \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease.coordination.k8s.io \\\"lease-bad\\\" is invalid: "                       \
    "spec.leaseDurationSeconds: Invalid value: 0: must be greater than "                           \
    "0\",\"reason\":\"Invalid\",\"details\":{\"name\":\"lease-bad\",\"group\":\"coordination.k8s." \
    "io\",\"kind\":\"Lease\",\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid " \
    "value: 0: must be greater than "                                                              \
    "0\",\"field\":\"spec.leaseDurationSeconds\"}]},\"code\":422}\n"

/* 14-post-invalid-duration-negative: POST
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_14_POST_INVALID_DURATION_NEGATIVE_CODE 422
#define X_14_POST_INVALID_DURATION_NEGATIVE_REQ                                                    \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-bad\"},\"spec\":{\"holderIdentity\":"  \
    "\"a\",\"leaseDurationSeconds\":-5,\"leaseTransitions\":-1}}"
#define X_14_POST_INVALID_DURATION_NEGATIVE_BODY                                                   \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease.coordination.k8s.io \\\"lease-bad\\\" is invalid: "                       \
    "[spec.leaseDurationSeconds: Invalid value: -5: must be greater than 0, "                      \
    "spec.leaseTransitions: Invalid value: -1: must to greater or equal than "                     \
    "0]\",\"reason\":\"Invalid\",\"details\":{\"name\":\"lease-bad\",\"group\":\"coordination."    \
    "k8s.io\",\"kind\":\"Lease\",\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":"       \
    "\"Invalid value: -5: must be greater than "                                                   \
    "0\",\"field\":\"spec.leaseDurationSeconds\"},{\"reason\":\"FieldValueInvalid\",\"message\":"  \
    "\"Invalid value: -1: must to greater or equal than "                                          \
    "0\",\"field\":\"spec.leaseTransitions\"}]},\"code\":422}\n"

/* 14b-smp-invalid-duration: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease */
#define X_14B_SMP_INVALID_DURATION_CODE 422
#define X_14B_SMP_INVALID_DURATION_REQ                                                             \
    "{\"metadata\":{\"resourceVersion\":\"202\"},\"spec\":{\"leaseDurationSeconds\":0}}"
#define X_14B_SMP_INVALID_DURATION_BODY                                                            \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease.coordination.k8s.io \\\"lease-a\\\" is invalid: "                         \
    "spec.leaseDurationSeconds: Invalid value: 0: must be greater than "                           \
    "0\",\"reason\":\"Invalid\",\"details\":{\"name\":\"lease-a\",\"group\":\"coordination.k8s."   \
    "io\",\"kind\":\"Lease\",\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid " \
    "value: 0: must be greater than "                                                              \
    "0\",\"field\":\"spec.leaseDurationSeconds\"}]},\"code\":422}\n"

/* 14c-apply-invalid-duration: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease&force=true
 */
#define X_14C_APPLY_INVALID_DURATION_CODE 422
#define X_14C_APPLY_INVALID_DURATION_REQ                                                           \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"202\"},\"spec\":{"                \
    "\"leaseDurationSeconds\":-1}}"
#define X_14C_APPLY_INVALID_DURATION_BODY                                                          \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease.coordination.k8s.io \\\"lease-a\\\" is invalid: "                         \
    "spec.leaseDurationSeconds: Invalid value: -1: must be greater than "                          \
    "0\",\"reason\":\"Invalid\",\"details\":{\"name\":\"lease-a\",\"group\":\"coordination.k8s."   \
    "io\",\"kind\":\"Lease\",\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid " \
    "value: -1: must be greater than "                                                             \
    "0\",\"field\":\"spec.leaseDurationSeconds\"}]},\"code\":422}\n"

/* 15-post-microtime-1: POST /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_15_POST_MICROTIME_1_CODE 400
#define X_15_POST_MICROTIME_1_REQ                                                                  \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-badtime\"},\"spec\":{"                 \
    "\"holderIdentity\":\"a\",\"renewTime\":\"not-a-time\"}}"
#define X_15_POST_MICROTIME_1_BODY                                                                 \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease in version \\\"v1\\\" cannot be handled as a Lease: parsing time "        \
    "\\\"not-a-time\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot parse "                \
    "\\\"not-a-time\\\" as \\\"2006\\\"\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 15-post-microtime-2: POST /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_15_POST_MICROTIME_2_CODE 400
#define X_15_POST_MICROTIME_2_REQ                                                                  \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-badtime\"},\"spec\":{"                 \
    "\"holderIdentity\":\"a\",\"renewTime\":\"2026-11-23T18:30:00Z\"}}"
#define X_15_POST_MICROTIME_2_BODY                                                                 \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease in version \\\"v1\\\" cannot be handled as a Lease: parsing time "        \
    "\\\"2026-11-23T18:30:00Z\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot parse "      \
    "\\\"Z\\\" as \\\".000000\\\"\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 15-post-microtime-3: POST /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_15_POST_MICROTIME_3_CODE 400
#define X_15_POST_MICROTIME_3_REQ                                                                  \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-badtime\"},\"spec\":{"                 \
    "\"holderIdentity\":\"a\",\"renewTime\":\"2026-11-23T18:30:00.123Z\"}}"
#define X_15_POST_MICROTIME_3_BODY                                                                 \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease in version \\\"v1\\\" cannot be handled as a Lease: parsing time "        \
    "\\\"2026-11-23T18:30:00.123Z\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot parse "  \
    "\\\".123Z\\\" as \\\".000000\\\"\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 15-post-microtime-4: POST /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_15_POST_MICROTIME_4_CODE 400
#define X_15_POST_MICROTIME_4_REQ                                                                  \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-badtime\"},\"spec\":{"                 \
    "\"holderIdentity\":\"a\",\"renewTime\":\"2026-11-23T18:30:00.123456789Z\"}}"
#define X_15_POST_MICROTIME_4_BODY                                                                 \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease in version \\\"v1\\\" cannot be handled as a Lease: parsing time "        \
    "\\\"2026-11-23T18:30:00.123456789Z\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot "  \
    "parse \\\"789Z\\\" as \\\"Z07:00\\\"\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 15-post-microtime-6: POST /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_15_POST_MICROTIME_6_CODE 400
#define X_15_POST_MICROTIME_6_REQ                                                                  \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-badtime\"},\"spec\":{"                 \
    "\"holderIdentity\":\"a\",\"renewTime\":\"2026-11-23 18:30:00.123456Z\"}}"
#define X_15_POST_MICROTIME_6_BODY                                                                 \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease in version \\\"v1\\\" cannot be handled as a Lease: parsing time "        \
    "\\\"2026-11-23 18:30:00.123456Z\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot "     \
    "parse \\\" 18:30:00.123456Z\\\" as \\\"T\\\"\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 15-post-microtime-7: POST /apis/coordination.k8s.io/v1/namespaces/klease-test/leases */
#define X_15_POST_MICROTIME_7_CODE 400
#define X_15_POST_MICROTIME_7_REQ                                                                  \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lease-badtime\"},\"spec\":{"                 \
    "\"holderIdentity\":\"a\",\"renewTime\":\"2026-11-23T18:30:00.123456z\"}}"
#define X_15_POST_MICROTIME_7_BODY                                                                 \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Lease in version \\\"v1\\\" cannot be handled as a Lease: parsing time "        \
    "\\\"2026-11-23T18:30:00.123456z\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot "     \
    "parse \\\"z\\\" as \\\"Z07:00\\\"\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 16-smp-invalid-microtime: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease */
#define X_16_SMP_INVALID_MICROTIME_CODE 422
#define X_16_SMP_INVALID_MICROTIME_REQ                                                             \
    "{\"metadata\":{\"resourceVersion\":\"202\"},\"spec\":{\"renewTime\":\"not-a-time\"}}"
#define X_16_SMP_INVALID_MICROTIME_BODY                                                            \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\" \\\"\\\" is invalid: patch: Invalid value: "                                   \
    "\\\"map[metadata:map[resourceVersion:202] spec:map[renewTime:not-a-time]]\\\": parsing time " \
    "\\\"not-a-time\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot parse "                \
    "\\\"not-a-time\\\" as "                                                                       \
    "\\\"2006\\\"\",\"reason\":\"Invalid\",\"details\":{\"causes\":[{\"reason\":"                  \
    "\"FieldValueInvalid\",\"message\":\"Invalid value: "                                          \
    "\\\"map[metadata:map[resourceVersion:202] spec:map[renewTime:not-a-time]]\\\": parsing time " \
    "\\\"not-a-time\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot parse "                \
    "\\\"not-a-time\\\" as \\\"2006\\\"\",\"field\":\"patch\"}]},\"code\":422}\n"

/* 17-apply-invalid-microtime: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease&force=true
 */
#define X_17_APPLY_INVALID_MICROTIME_CODE 500
#define X_17_APPLY_INVALID_MICROTIME_REQ                                                           \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"202\"},\"spec\":{\"renewTime\":"  \
    "\"not-a-time\"}}"
#define X_17_APPLY_INVALID_MICROTIME_BODY                                                          \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"failed to convert new object (/; coordination.k8s.io/v1, Kind=Lease) to "       \
    "proper version: unable to convert unstructured object to coordination.k8s.io/v1, "            \
    "Kind=Lease: parsing time \\\"not-a-time\\\" as \\\"2006-01-02T15:04:05.000000Z07:00\\\": "    \
    "cannot parse \\\"not-a-time\\\" as \\\"2006\\\"\",\"code\":500}\n"

/* 17b-apply-microtime-nofraction: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease&force=true
 */
#define X_17B_APPLY_MICROTIME_NOFRACTION_CODE 500
#define X_17B_APPLY_MICROTIME_NOFRACTION_REQ                                                       \
    "{\"apiVersion\":\"coordination.k8s.io/"                                                       \
    "v1\",\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"202\"},\"spec\":{\"renewTime\":"  \
    "\"2026-11-23T18:30:00Z\"}}"
#define X_17B_APPLY_MICROTIME_NOFRACTION_BODY                                                      \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"failed to convert new object (/; coordination.k8s.io/v1, Kind=Lease) to "       \
    "proper version: unable to convert unstructured object to coordination.k8s.io/v1, "            \
    "Kind=Lease: parsing time \\\"2026-11-23T18:30:00Z\\\" as "                                    \
    "\\\"2006-01-02T15:04:05.000000Z07:00\\\": cannot parse \\\"Z\\\" as "                         \
    "\\\".000000\\\"\",\"code\":500}\n"

/* 18-patch-bad-json: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease */
#define X_18_PATCH_BAD_JSON_CODE 400
#define X_18_PATCH_BAD_JSON_REQ  "{\"spec\":{\"renewTime\":"
#define X_18_PATCH_BAD_JSON_BODY                                                                   \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"unexpected end of JSON input\",\"reason\":\"BadRequest\",\"code\":400}\n"

/* 18b-patch-unsupported-ctype: PATCH
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease */
#define X_18B_PATCH_UNSUPPORTED_CTYPE_CODE 415
#define X_18B_PATCH_UNSUPPORTED_CTYPE_REQ  "{\"spec\":{}}"
#define X_18B_PATCH_UNSUPPORTED_CTYPE_BODY                                                         \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"415: Unsupported Media "                                                        \
    "Type\",\"reason\":\"UnsupportedMediaType\",\"details\":{},\"code\":415}\n"

/* 19-put-stale-rv: PUT
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a?fieldManager=klease */
#define X_19_PUT_STALE_RV_CODE 409
#define X_19_PUT_STALE_RV_REQ                                                                      \
    "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/"                                    \
    "v1\",\"metadata\":{\"name\":\"lease-a\",\"namespace\":\"klease-test\",\"uid\":\"382c635a-"    \
    "48b3-485c-a72a-39e9ac8e16c5\",\"resourceVersion\":\"200\",\"creationTimestamp\":\"2026-11-"   \
    "23T18:38:50Z\",\"managedFields\":[{\"manager\":\"klease\",\"operation\":\"Update\","          \
    "\"apiVersion\":\"coordination.k8s.io/"                                                        \
    "v1\",\"time\":\"2026-11-23T18:38:51Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":" \
    "{\"f:acquireTime\":{},\"f:holderIdentity\":{},\"f:leaseDurationSeconds\":{},\"f:"             \
    "leaseTransitions\":{},\"f:renewTime\":{}}}}]},\"spec\":{\"holderIdentity\":\"put-holder\","   \
    "\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-11-23T18:38:51.616661Z\",\"renewTime\":"   \
    "\"2026-11-23T18:38:51.616661Z\",\"leaseTransitions\":2}}"
#define X_19_PUT_STALE_RV_BODY                                                                     \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Operation cannot be fulfilled on leases.coordination.k8s.io \\\"lease-a\\\": "  \
    "the object has been modified; please apply your changes to the latest version and try "       \
    "again\",\"reason\":\"Conflict\",\"details\":{\"name\":\"lease-a\",\"group\":\"coordination."  \
    "k8s.io\",\"kind\":\"leases\"},\"code\":409}\n"

/* 19d-delete-missing: DELETE
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-missing */
#define X_19D_DELETE_MISSING_CODE 404
#define X_19D_DELETE_MISSING_BODY                                                                  \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"leases.coordination.k8s.io \\\"lease-missing\\\" not "                          \
    "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"lease-missing\",\"group\":"           \
    "\"coordination.k8s.io\",\"kind\":\"leases\"},\"code\":404}\n"

/* 25b-list-exact-compacted-rv: GET
 * /apis/coordination.k8s.io/v1/namespaces/klease-test/leases?resourceVersion=212&resourceVersionMatch=Exact
 */
#define X_25B_LIST_EXACT_COMPACTED_RV_CODE 410
#define X_25B_LIST_EXACT_COMPACTED_RV_BODY                                                         \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"The resourceVersion for the provided list is too "                              \
    "old.\",\"reason\":\"Expired\",\"code\":410}\n"

/* 31-token-bad: GET /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a */
#define X_31_TOKEN_BAD_CODE 401
#define X_31_TOKEN_BAD_BODY                                                                        \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}\n"

/* 32-token-forbidden: GET /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a */
#define X_32_TOKEN_FORBIDDEN_CODE 403
#define X_32_TOKEN_FORBIDDEN_BODY                                                                  \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"leases.coordination.k8s.io \\\"lease-a\\\" is forbidden: User "                 \
    "\\\"klease-token-nobody\\\" cannot get resource \\\"leases\\\" in API group "                 \
    "\\\"coordination.k8s.io\\\" in the namespace "                                                \
    "\\\"klease-test\\\"\",\"reason\":\"Forbidden\",\"details\":{\"name\":\"lease-a\",\"group\":"  \
    "\"coordination.k8s.io\",\"kind\":\"leases\"},\"code\":403}\n"

/* 33-no-credentials: GET /apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a */
#define X_33_NO_CREDENTIALS_CODE 403
#define X_33_NO_CREDENTIALS_BODY                                                                   \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"leases.coordination.k8s.io \\\"lease-a\\\" is forbidden: User "                 \
    "\\\"system:anonymous\\\" cannot get resource \\\"leases\\\" in API group "                    \
    "\\\"coordination.k8s.io\\\" in the namespace "                                                \
    "\\\"klease-test\\\"\",\"reason\":\"Forbidden\",\"details\":{\"name\":\"lease-a\",\"group\":"  \
    "\"coordination.k8s.io\",\"kind\":\"leases\"},\"code\":403}\n"

#endif
