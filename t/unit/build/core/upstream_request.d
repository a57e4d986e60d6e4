/work/main/t/unit/build/core/upstream_request.o: \
 /work/main/ngx_routeshift_module/core/upstream_request.cpp \
 /work/main/ngx_routeshift_module/core/upstream_request.hpp \
 /work/main/ngx_routeshift_module/core/chat_request.hpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp \
 /work/main/ngx_routeshift_module/core/openai_error.hpp \
 /work/main/ngx_routeshift_module/core/config_snapshot.hpp \
 /work/main/ngx_routeshift_module/core/provider_catalog.hpp \
 /work/main/ngx_routeshift_module/core/url.hpp
/work/main/ngx_routeshift_module/core/upstream_request.hpp:
/work/main/ngx_routeshift_module/core/chat_request.hpp:
/work/main/ngx_routeshift_module/core/json_util.hpp:
/work/main/ngx_routeshift_module/core/openai_error.hpp:
/work/main/ngx_routeshift_module/core/config_snapshot.hpp:
/work/main/ngx_routeshift_module/core/provider_catalog.hpp:
/work/main/ngx_routeshift_module/core/url.hpp:
