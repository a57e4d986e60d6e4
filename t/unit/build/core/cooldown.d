/work/main/t/unit/build/core/cooldown.o: \
 /work/main/ngx_routeshift_module/core/cooldown.cpp \
 /work/main/ngx_routeshift_module/core/cooldown.hpp
/work/main/ngx_routeshift_module/core/cooldown.hpp:
