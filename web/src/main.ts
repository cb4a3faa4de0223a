import { createApp } from 'vue'
import { createWebHistory } from 'vue-router'
import App from './App.vue'
import { createAppRouter } from './router'
import './styles.css'

const router = createAppRouter(createWebHistory())
const app = createApp(App).use(router)

// Mount after the first navigation (which restores the session), so the first
// paint is already the right page: no flash of the sign-in form for someone
// who is signed in.
void router.isReady().then(() => app.mount('#app'))
