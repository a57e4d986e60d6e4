/work/main/t/unit/build/test_virtual_key_auth: \
 /work/main/t/unit/test_virtual_key_auth.cpp \
 /work/main/t/unit/snapshot_fixture.hpp \
 /work/main/ngx_routeshift_module/core/config_snapshot.hpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp \
 /work/main/ngx_routeshift_module/core/provider_catalog.hpp \
 /work/main/ngx_routeshift_module/core/url.hpp \
 /work/main/ngx_routeshift_module/core/virtual_key_auth.hpp \
 /work/main/ngx_routeshift_module/core/openai_error.hpp \
 /work/main/t/unit/test_util.hpp
/work/main/t/unit/snapshot_fixture.hpp:
/work/main/ngx_routeshift_module/core/config_snapshot.hpp:
/work/main/ngx_routeshift_module/core/json_util.hpp:
/work/main/ngx_routeshift_module/core/provider_catalog.hpp:
/work/main/ngx_routeshift_module/core/url.hpp:
/work/main/ngx_routeshift_module/core/virtual_key_auth.hpp:
/work/main/ngx_routeshift_module/core/openai_error.hpp:
/work/main/t/unit/test_util.hpp:
