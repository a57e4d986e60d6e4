/work/main/t/unit/build/test_cooldown: \
 /work/main/t/unit/test_cooldown.cpp \
 /work/main/ngx_routeshift_module/core/cooldown.hpp \
 /work/main/t/unit/test_util.hpp
/work/main/ngx_routeshift_module/core/cooldown.hpp:
/work/main/t/unit/test_util.hpp:
