/work/main/t/unit/build/test_json_util: \
 /work/main/t/unit/test_json_util.cpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp \
 /work/main/t/unit/test_util.hpp
/work/main/ngx_routeshift_module/core/json_util.hpp:
/work/main/t/unit/test_util.hpp:
