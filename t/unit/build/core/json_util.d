/work/main/t/unit/build/core/json_util.o: \
 /work/main/ngx_routeshift_module/core/json_util.cpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp
/work/main/ngx_routeshift_module/core/json_util.hpp:
