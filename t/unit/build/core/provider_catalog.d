/work/main/t/unit/build/core/provider_catalog.o: \
 /work/main/ngx_routeshift_module/core/provider_catalog.cpp \
 /work/main/ngx_routeshift_module/core/provider_catalog.hpp
/work/main/ngx_routeshift_module/core/provider_catalog.hpp:
