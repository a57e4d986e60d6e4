/work/main/t/unit/build/test_balancer_wrr: \
 /work/main/t/unit/test_balancer_wrr.cpp \
 /work/main/ngx_routeshift_module/core/balancer_wrr.hpp \
 /work/main/t/unit/test_util.hpp
/work/main/ngx_routeshift_module/core/balancer_wrr.hpp:
/work/main/t/unit/test_util.hpp:
