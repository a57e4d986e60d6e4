/work/main/t/unit/build/core/config_snapshot.o: \
 /work/main/ngx_routeshift_module/core/config_snapshot.cpp \
 /work/main/ngx_routeshift_module/core/config_snapshot.hpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp \
 /work/main/ngx_routeshift_module/core/provider_catalog.hpp \
 /work/main/ngx_routeshift_module/core/url.hpp
/work/main/ngx_routeshift_module/core/config_snapshot.hpp:
/work/main/ngx_routeshift_module/core/json_util.hpp:
/work/main/ngx_routeshift_module/core/provider_catalog.hpp:
/work/main/ngx_routeshift_module/core/url.hpp:
