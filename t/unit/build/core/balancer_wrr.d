/work/main/t/unit/build/core/balancer_wrr.o: \
 /work/main/ngx_routeshift_module/core/balancer_wrr.cpp \
 /work/main/ngx_routeshift_module/core/balancer_wrr.hpp
/work/main/ngx_routeshift_module/core/balancer_wrr.hpp:
