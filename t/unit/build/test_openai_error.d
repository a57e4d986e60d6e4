/work/main/t/unit/build/test_openai_error: \
 /work/main/t/unit/test_openai_error.cpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp \
 /work/main/ngx_routeshift_module/core/openai_error.hpp \
 /work/main/t/unit/test_util.hpp
/work/main/ngx_routeshift_module/core/json_util.hpp:
/work/main/ngx_routeshift_module/core/openai_error.hpp:
/work/main/t/unit/test_util.hpp:
