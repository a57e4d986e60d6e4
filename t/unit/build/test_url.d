/work/main/t/unit/build/test_url: /work/main/t/unit/test_url.cpp \
 /work/main/ngx_routeshift_module/core/provider_catalog.hpp \
 /work/main/ngx_routeshift_module/core/url.hpp \
 /work/main/t/unit/test_util.hpp
/work/main/ngx_routeshift_module/core/provider_catalog.hpp:
/work/main/ngx_routeshift_module/core/url.hpp:
/work/main/t/unit/test_util.hpp:
