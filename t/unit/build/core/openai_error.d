/work/main/t/unit/build/core/openai_error.o: \
 /work/main/ngx_routeshift_module/core/openai_error.cpp \
 /work/main/ngx_routeshift_module/core/openai_error.hpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp
/work/main/ngx_routeshift_module/core/openai_error.hpp:
/work/main/ngx_routeshift_module/core/json_util.hpp:
