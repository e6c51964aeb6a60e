# kv.store, kvd's storage engine behind a stateful seam (server/kv_store_seam.h,
# graft/stateful.h): included by tests/server/CMakeLists.txt.

# The conformance suite against memcached with kv.store started in every stage but
# legacy (legacy is tests/conformance's kvd-conformance): an empty store passes every
# gate at start-up, so each run is that stage from the first request.
find_program(KV_MEMCACHED memcached PATHS /usr/bin /usr/local/bin)
if(KV_MEMCACHED AND EXISTS "${PROJECT_SOURCE_DIR}/tests/conformance/conformance.py")
  foreach(stage dual-write shadow canary:50 candidate candidate-only)
    string(REPLACE ":" "-" name "${stage}")
    add_test(NAME kvd-conformance-store-${name}
             COMMAND ${Python3_EXECUTABLE} "${PROJECT_SOURCE_DIR}/tests/conformance/conformance.py"
                     --kvd $<TARGET_FILE:kvd> --memcached ${KV_MEMCACHED} -j 8
                     --env "GRAFT_SEAMS=kv.store=${stage}")
    set_tests_properties(kvd-conformance-store-${name} PROPERTIES
                         LABELS "conformance;server" TIMEOUT 300)
  endforeach()
endif()

# The stage of kv.store changed at random every 150-450 ms for 30 s under four clients
# whose every reply is checked against a model (tests/server/store_stages.py).
add_test(NAME kvd-store-stages
         COMMAND ${Python3_EXECUTABLE} "${CMAKE_CURRENT_SOURCE_DIR}/store_stages.py"
                 $<TARGET_FILE:kvd> 30)
set_tests_properties(kvd-store-stages PROPERTIES LABELS "server;load;tsan" TIMEOUT 300
                     PASS_REGULAR_EXPRESSION "every read matched the model")

# The stateful demo of `make demo` (tools/demo/demo_store.sh): 120k preloaded items moved
# legacy -> ... -> candidate-only and back under kvload --check, every reply checked.
add_test(NAME kvd-demo-store
         COMMAND "${PROJECT_SOURCE_DIR}/tools/demo/demo_store.sh" "${PROJECT_BINARY_DIR}")
set_tests_properties(kvd-demo-store PROPERTIES LABELS "integration;server" TIMEOUT 300
                     PASS_REGULAR_EXPRESSION "0 client-visible errors, 0 lost or stale")
