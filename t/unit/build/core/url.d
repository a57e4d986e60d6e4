/work/main/t/unit/build/core/url.o: \
 /work/main/ngx_routeshift_module/core/url.cpp \
 /work/main/ngx_routeshift_module/core/url.hpp
/work/main/ngx_routeshift_module/core/url.hpp:
